// Owns DNS queries whose DNSSEC status matters (TLSA for DANE): node:dns cannot show the AD
// ("authenticated data") bit, so these are sent with dns-packet over UDP (TCP when truncated)
// with the DO and AD bits set, to dns.servers (or the system's resolvers), and the answer comes
// back with its rcode and AD bit. The resolver must validate DNSSEC and be trusted on the path
// to it (a local validating resolver): the AD bit is taken as sent.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { getServers } from 'node:dns';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Config } from '../config/schema.js';

export type SecureQueryType = 'TLSA' | 'A' | 'AAAA';

export interface SecureAnswer {
  /** 'NOERROR', 'NXDOMAIN', 'SERVFAIL'… */
  rcode: string;
  /** The AD bit: the resolver validated the answer (or the denial) with DNSSEC. */
  authenticated: boolean;
  answers: dnsPacket.Answer[];
}

export interface SecureResolver {
  /** Rejects only when no server answered (timeouts, socket errors). */
  query(name: string, type: SecureQueryType): Promise<SecureAnswer>;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const UDP_PAYLOAD = 1232; // the EDNS buffer size of DNS flag day 2020
const TRIES = 2;

type Server = { host: string; port: number };

/** A SecureResolver sending to config dns.servers (empty: the system's, as node:dns reads them). */
export function createSecureResolver(dns: Config['dns']): SecureResolver {
  const servers = (): Server[] => (dns.servers.length > 0 ? [...dns.servers] : getServers().map(parseServer));
  return {
    async query(name, type) {
      let lastError: unknown = new Error('no DNS server configured');
      for (let attempt = 0; attempt < TRIES; attempt++) {
        for (const server of servers()) {
          try {
            return await exchange(server, name, type, dns.timeout);
          } catch (err) {
            lastError = err;
          }
        }
      }
      throw lastError;
    },
  };
}

/** "1.2.3.4", "1.2.3.4:53", "[::1]:5353", "::1" (node:dns getServers forms). */
function parseServer(s: string): Server {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (v6) return { host: v6[1]!, port: Number(v6[2]) };
  const v4 = /^([^:]+):(\d+)$/.exec(s);
  if (v4) return { host: v4[1]!, port: Number(v4[2]) };
  return { host: s, port: 53 };
}

async function exchange(server: Server, name: string, type: SecureQueryType, timeoutMs: number): Promise<SecureAnswer> {
  const id = randomInt(0, 65536);
  const query = dnsPacket.encode({
    type: 'query', id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
    questions: [{ type, class: 'IN', name }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: UDP_PAYLOAD, flags: dnsPacket.DNSSEC_OK } as dnsPacket.OptAnswer],
  });
  let res = await overUdp(server, query, id, timeoutMs);
  if (res.flag_tc) res = await overTcp(server, query, id, timeoutMs);
  const flags = res.flags ?? 0;
  return { rcode: RCODES[flags & 0xf] ?? `RCODE${flags & 0xf}`, authenticated: res.flag_ad, answers: res.answers ?? [] };
}

const timeoutError = (server: Server) => Object.assign(new Error(`DNS query to ${server.host}:${server.port} timed out`), { code: 'ETIMEOUT' });

function overUdp(server: Server, query: Buffer, id: number, timeoutMs: number): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    let finished = false;
    const done = (err: Error | null, res?: dnsPacket.DecodedPacket) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err); else resolve(res!);
    };
    const timer = setTimeout(() => done(timeoutError(server)), timeoutMs);
    socket.on('error', (err) => done(err));
    socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== server.port) return;
      const res = decode(msg);
      if (res && res.id === id && res.type === 'response') done(null, res); // anything else: spoofed or stale
    });
    socket.send(query, server.port, server.host);
  });
}

function overTcp(server: Server, query: Buffer, id: number, timeoutMs: number): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    let finished = false;
    const done = (err: Error | null, res?: dnsPacket.DecodedPacket) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err); else resolve(res!);
    };
    const timer = setTimeout(() => done(timeoutError(server)), timeoutMs);
    socket.on('error', (err) => done(err));
    socket.on('close', () => done(Object.assign(new Error('DNS server closed the TCP connection'), { code: 'ECONNRESET' })));
    socket.on('connect', () => {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(query.length);
      socket.write(Buffer.concat([head, query]));
    });
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const res = decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      if (res && res.id === id) done(null, res);
      else done(Object.assign(new Error('DNS server sent a malformed answer'), { code: 'EBADRESP' }));
    });
  });
}

function decode(msg: Buffer): dnsPacket.DecodedPacket | null {
  try { return dnsPacket.decode(msg); } catch { return null; }
}
