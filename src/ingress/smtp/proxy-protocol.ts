// Owns the PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) as a sans-IO
// parser: feed it the first bytes of a connection, chunk by chunk, and it answers "more", the
// proxied client's address plus the bytes that followed the header, or why the header is invalid.
// It never touches a socket; proxy-handshake.ts does the I/O and the trust decision.
//
// v1: "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n" or "PROXY UNKNOWN ...\r\n", ≤ 107 bytes.
// v2: a 12-byte signature, version/command, family/transport, a 16-bit length, the addresses,
// then TLVs (skipped). LOCAL (health checks), UNKNOWN, AF_UNSPEC and AF_UNIX carry no usable
// client address: the result is `source: null` and the caller keeps the socket's own peer.
import net from 'node:net';

export interface ProxyAddress { address: string; port: number }

export type ProxyParse =
  | { status: 'more' }
  | {
    status: 'done';
    version: 1 | 2;
    /** The proxied client; null for v1 UNKNOWN, v2 LOCAL, v2 AF_UNSPEC/AF_UNIX. */
    source: ProxyAddress | null;
    destination: ProxyAddress | null;
    /** Bytes after the header in the same chunk: they belong to the protocol behind it. */
    rest: Buffer;
  }
  | { status: 'invalid'; reason: string };

/** v1 lines are at most 107 bytes with the CRLF (the spec's own bound). */
export const V1_MAX_BYTES = 107;
/**
 * v2: 16 fixed bytes + the declared length. Addresses need at most 216 (AF_UNIX); the rest are
 * TLVs (cloud load balancers send well under 1 KB). A larger header is refused, so a peer cannot
 * make us buffer up to 64 KB before the first SMTP byte.
 */
export const V2_MAX_BYTES = 4096;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED = 16;
const PORT = /^(?:0|[1-9]\d{0,4})$/;

/** Accumulates bytes until the header is complete; one parser per connection. */
export class ProxyHeaderParser {
  #buf: Buffer = Buffer.alloc(0);
  #result: ProxyParse = { status: 'more' };

  push(chunk: Buffer): ProxyParse {
    if (this.#result.status !== 'more') return this.#result;
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    this.#result = parseProxyHeader(this.#buf);
    return this.#result;
  }
}

/** Parses a complete or partial header at the start of `buf`. */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (buf.length === 0) return { status: 'more' };
  if (isPrefixOf(buf, V1_PREFIX)) return parseV1(buf);
  if (isPrefixOf(buf, V2_SIGNATURE)) return parseV2(buf);
  return invalid('not a PROXY protocol header');
}

/** True when buf and sig agree on their common length. */
function isPrefixOf(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  return buf.subarray(0, n).equals(sig.subarray(0, n));
}

function parseV1(buf: Buffer): ProxyParse {
  const lf = buf.indexOf(0x0a);
  if (lf < 0) return buf.length >= V1_MAX_BYTES ? invalid('v1 header longer than 107 bytes') : { status: 'more' };
  if (lf + 1 > V1_MAX_BYTES) return invalid('v1 header longer than 107 bytes');
  if (buf[lf - 1] !== 0x0d) return invalid('v1 header not ended by CRLF');
  const line = buf.subarray(0, lf - 1).toString('latin1');
  const rest = buf.subarray(lf + 1);
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { status: 'done', version: 1, source: null, destination: null, rest };
  if (parts.length !== 6) return invalid('v1 header: expected "PROXY TCP4|TCP6 src dst sport dport"');
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const family = proto === 'TCP4' ? 'ipv4' : proto === 'TCP6' ? 'ipv6' : null;
  if (!family) return invalid(`v1 header: unknown protocol ${JSON.stringify(proto.slice(0, 16))}`);
  const source = textAddress(src, sport, family);
  const destination = textAddress(dst, dport, family);
  if (!source || !destination) return invalid(`v1 header: bad ${proto} address or port`);
  return { status: 'done', version: 1, source, destination, rest };
}

function textAddress(address: string, port: string, family: 'ipv4' | 'ipv6'): ProxyAddress | null {
  if (!PORT.test(port) || Number(port) > 65535) return null;
  // node:net's isIPv6 accepts a zone index ("fe80::1%eth0"), which no client address carries.
  if (family === 'ipv4' ? !net.isIPv4(address) : address.includes('%') || !net.isIPv6(address)) return null;
  return { address: normalizeIp(address, family), port: Number(port) };
}

function parseV2(buf: Buffer): ProxyParse {
  if (buf.length < V2_FIXED) return { status: 'more' };
  const verCmd = buf[12]!;
  const famProto = buf[13]!;
  const length = buf.readUInt16BE(14);
  if (verCmd >> 4 !== 2) return invalid(`v2 header: version ${verCmd >> 4}`);
  const command = verCmd & 0x0f;
  if (command > 1) return invalid(`v2 header: command ${command}`);
  if (V2_FIXED + length > V2_MAX_BYTES) return invalid(`v2 header of ${V2_FIXED + length} bytes exceeds ${V2_MAX_BYTES}`);
  if (buf.length < V2_FIXED + length) return { status: 'more' };
  const body = buf.subarray(V2_FIXED, V2_FIXED + length);
  const rest = buf.subarray(V2_FIXED + length);
  const none = { status: 'done', version: 2, source: null, destination: null, rest } as const;
  if (command === 0) return none; // LOCAL: the proxy's own connection (health check); family ignored
  const family = famProto >> 4;
  const transport = famProto & 0x0f;
  if (family > 3 || transport > 2) return invalid(`v2 header: family/transport byte 0x${famProto.toString(16)}`);
  if (family === 0) return none; // AF_UNSPEC: the proxy does not know the client
  if (transport !== 1) return invalid('v2 header: only STREAM (TCP) connections are accepted');
  if (family === 3) return length >= 216 ? none : invalid('v2 header: AF_UNIX block too short');
  const size = family === 1 ? 4 : 16;
  if (length < 2 * size + 4) return invalid(`v2 header: ${family === 1 ? 'AF_INET' : 'AF_INET6'} block too short`);
  const fam = family === 1 ? 'ipv4' : 'ipv6';
  const source = { address: binaryIp(body.subarray(0, size), fam), port: body.readUInt16BE(2 * size) };
  const destination = { address: binaryIp(body.subarray(size, 2 * size), fam), port: body.readUInt16BE(2 * size + 2) };
  return { status: 'done', version: 2, source, destination, rest };
}

function binaryIp(bytes: Buffer, family: 'ipv4' | 'ipv6'): string {
  if (family === 'ipv4') return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return normalizeIp(groups.join(':'), 'ipv6');
}

/** Canonical text (compressed IPv6); IPv4-mapped IPv6 as plain IPv4, as clientIp() does for sockets. */
function normalizeIp(address: string, family: 'ipv4' | 'ipv6'): string {
  const canonical = new net.SocketAddress({ address, family }).address;
  return canonical.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

const invalid = (reason: string): ProxyParse => ({ status: 'invalid', reason });
