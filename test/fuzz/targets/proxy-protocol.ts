// Fuzz target: the PROXY protocol parser (src/ingress/smtp/proxy-protocol.ts). Properties: never
// throws (a throw inside the socket's data handler would take the process down); the same result
// fed whole or in any chunks; every strict prefix of a valid header asks for more; a valid header
// (built by test/helpers/proxy-header.ts, written from the spec) parses to the addresses it carries,
// compared as bytes, with the bytes after it as `rest`; whatever it accepts is a well-formed header
// by an independent reading of the spec (strict IPv6 text, no zone index, ports without leading zeros).
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { parseProxyHeader, ProxyHeaderParser, type ProxyParse } from '../../../src/ingress/smtp/proxy-protocol.js';
import { proxyV2 } from '../../helpers/proxy-header.js';
import { corpusOf } from '../corpus.js';
import type { FuzzTarget, Rng } from '../harness.js';
import { isStrictIPv6 } from './address.js';

interface Input { bytes: Buffer; cuts: number[]; header?: { length: number; source: string | null; sport?: number } }

const V2_SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const PORT = /^(0|[1-9]\d{0,4})$/;

/** 16 bytes of an IPv6 text (already checked by isStrictIPv6), or 4 of an IPv4 one. */
function ipBytes(text: string): Buffer {
  if (IPV4.test(text)) return Buffer.from(text.split('.').map(Number));
  const t = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
  const split = (h: string) => (h === '' ? [] : h.split(':'));
  const [head, tail] = t.includes('::') ? t.split('::').map(split) as [string[], string[]] : [split(t), []];
  const all = t.includes('::') ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** What a done result's address means, as 16 bytes (IPv4 as IPv4-mapped). */
const asV6Bytes = (ip: string) => (IPV4.test(ip) ? Buffer.concat([Buffer.from('00000000000000000000ffff', 'hex'), ipBytes(ip)]) : ipBytes(ip));

function parseChunked(bytes: Buffer, cuts: readonly number[]): ProxyParse {
  const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b).filter((p) => p > 0);
  const parser = new ProxyHeaderParser();
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p <= from) continue;
    const r = parser.push(bytes.subarray(from, p));
    from = p;
    if (r.status === 'done') return { ...r, rest: Buffer.concat([r.rest, bytes.subarray(from)]) };
    if (r.status === 'invalid') return r;
  }
  return { status: 'more' };
}

const comparable = (r: ProxyParse) => (r.status === 'done' ? { ...r, rest: r.rest.toString('latin1') } : r);

/** The consumed header is well-formed by the spec, read independently. */
function checkAccepted(bytes: Buffer, r: Extract<ProxyParse, { status: 'done' }>): void {
  const consumed = bytes.subarray(0, bytes.length - r.rest.length);
  if (r.version === 1) {
    const line = consumed.toString('latin1');
    assert.ok(line.length <= 107 && line.endsWith('\r\n') && !line.slice(0, -2).includes('\n'), 'v1: one line of at most 107 bytes');
    const m = /^PROXY (TCP4|TCP6) (\S+) (\S+) (\S+) (\S+)\r\n$/.exec(line);
    if (!m) { assert.match(line, /^PROXY UNKNOWN[ \r]/, 'v1: TCP4, TCP6 or UNKNOWN'); assert.equal(r.source, null); return; }
    const strict = m[1] === 'TCP4' ? (a: string) => IPV4.test(a) : isStrictIPv6;
    assert.ok(strict(m[2]!) && strict(m[3]!), `v1: addresses are ${m[1]} addresses: ${m[2]} ${m[3]}`);
    assert.ok(PORT.test(m[4]!) && PORT.test(m[5]!) && Number(m[4]) <= 65535 && Number(m[5]) <= 65535, 'v1: ports');
    assert.deepEqual(asV6Bytes(r.source!.address), asV6Bytes(m[2]!), 'v1: the source address as sent');
    assert.equal(r.source!.port, Number(m[4]));
  } else {
    assert.ok(consumed.subarray(0, 12).equals(V2_SIG) && consumed.length === 16 + consumed.readUInt16BE(14), 'v2: signature and length');
    if (r.source) {
      const fam = consumed[13]! >> 4;
      const raw = consumed.subarray(16, fam === 1 ? 20 : 32);
      assert.deepEqual(asV6Bytes(r.source.address), fam === 1 ? asV6Bytes([...raw].join('.')) : raw, 'v2: the source address as sent');
      assert.equal(r.source.port, consumed.readUInt16BE(fam === 1 ? 24 : 48));
    }
  }
  for (const a of [r.source, r.destination]) if (a) assert.ok(net.isIP(a.address) && !a.address.includes('%'), `canonical address ${a.address}`);
}

export function checkProxy(input: Input): void {
  let whole: ProxyParse;
  try { whole = parseProxyHeader(input.bytes); } catch (err) { assert.fail(`parseProxyHeader threw: ${(err as Error).message}`); }
  let chunked: ProxyParse;
  try { chunked = parseChunked(input.bytes, input.cuts); } catch (err) { assert.fail(`ProxyHeaderParser threw: ${(err as Error).message}`); }
  assert.deepEqual(comparable(chunked), comparable(whole), 'the same result in any chunking');
  if (whole.status === 'done') checkAccepted(input.bytes, whole);
  const h = input.header;
  if (!h) return;
  for (const n of [0, 1, Math.floor(h.length / 2), h.length - 1]) {
    if (n < 1 || n >= h.length) continue;
    assert.deepEqual(parseProxyHeader(input.bytes.subarray(0, n)), { status: 'more' }, `a prefix of ${n} bytes asks for more`);
  }
  assert.equal(whole.status, 'done', `a valid header is accepted: ${JSON.stringify(whole)}`);
  if (whole.status !== 'done') return;
  assert.equal(whole.rest.toString('latin1'), input.bytes.subarray(h.length).toString('latin1'), 'rest');
  if (h.source === null) assert.equal(whole.source, null);
  else { assert.deepEqual(asV6Bytes(whole.source!.address), asV6Bytes(h.source)); assert.equal(whole.source!.port, h.sport); }
}

// ---- Inputs ----
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
/** Eight groups written in every text form RFC 4291 allows: compressed, mixed with IPv4, upper case, leading zeros. */
const ipv6 = fc.tuple(fc.array(fc.oneof(fc.constant(0), fc.nat(0xffff)), { minLength: 8, maxLength: 8 }), fc.nat(8), fc.nat(8), fc.boolean(), fc.boolean(), fc.boolean())
  .map(([g, from, len, mixed, upper, pad]) => {
    let groups = g.map((n) => n.toString(16)).map((s) => (pad ? s.padStart(4, '0') : s));
    let tail = '';
    if (mixed) { tail = `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`; groups = groups.slice(0, 6); }
    const n = groups.length;
    const start = Math.min(from, n - 1);
    const run = Math.min(len, n - start);
    let text: string;
    if (run >= 1) text = `${groups.slice(0, start).join(':')}::${groups.slice(start + run).join(':')}`;
    else text = groups.join(':');
    if (tail) text = text.endsWith(':') ? text + tail : `${text}:${tail}`;
    return upper ? text.toUpperCase() : text;
  }).filter(isStrictIPv6);
const port = fc.nat(65535);
const trailing = fc.oneof(fc.constant(''), fc.constantFrom('EHLO x\r\n', '\x16\x03\x01', 'PROXY TCP4 1.1.1.1 1.1.1.1 1 1\r\n'));
const cuts = fc.array(fc.nat(300), { maxLength: 6 });

const v1 = fc.tuple(fc.boolean(), ipv4, ipv4, ipv6, ipv6, port, port, trailing, cuts).map(([six, a4, b4, a6, b6, sp, dp, rest, c]): Input => {
  const [src, dst] = six ? [a6, b6] : [a4, b4];
  const line = `PROXY ${six ? 'TCP6' : 'TCP4'} ${src} ${dst} ${sp} ${dp}\r\n`;
  return { bytes: Buffer.from(line + rest, 'latin1'), cuts: c, header: line.length <= 107 ? { length: line.length, source: src, sport: sp } : undefined };
});
const v2 = fc.tuple(fc.boolean(), ipv4, ipv6.filter((a) => !a.includes('.')), port, fc.array(fc.tuple(fc.nat(255), fc.uint8Array({ maxLength: 40 })), { maxLength: 4 }), fc.constantFrom('PROXY', 'LOCAL'), trailing, cuts)
  .map(([six, a4, a6, sp, tlvs, command, rest, c]): Input => {
    const src = six ? a6 : a4;
    const header = proxyV2({ command: command as 'PROXY' | 'LOCAL', source: { address: src, port: sp }, tlvs: tlvs.map(([t, v]) => [t, Buffer.from(v)]) });
    return { bytes: Buffer.concat([header, Buffer.from(rest, 'latin1')]), cuts: c, header: { length: header.length, source: command === 'LOCAL' ? null : src, sport: sp } };
  });
const oddV1 = fc.tuple(fc.constantFrom('TCP4', 'TCP6', 'UNKNOWN', 'tcp4', 'UDP4', ''),
  fc.array(fc.oneof(ipv4, ipv6, fc.constantFrom('1::2:3:4:5:6:7:8', 'fe80::1%eth0', '::ffff:1.2.3.4', '01.2.3.4', '0', '65536', '00', '-1', '', ' ', '1e3', '\r', '\n')), { maxLength: 5 }),
  fc.constantFrom('\r\n', '\n', '\r', '', '\r\r\n'), cuts)
  .map(([proto, parts, end, c]): Input => ({ bytes: Buffer.from(`PROXY ${[proto, ...parts].join(' ')}${end}`, 'latin1'), cuts: c }));
/** A valid v1 line with one field replaced by a near miss. */
const nearV1 = fc.tuple(v1, fc.nat(4), fc.constantFrom('fe80::1%eth0', '::1%1', '1:2:3:4:5:6:7:8%a', '1::2:3:4:5:6:7:8', '01.2.3.4', '1.2.3.4 ', '012', '65536', '-0', '+1', '0x10', ''))
  .map(([input, field, odd]): Input => {
    const line = input.bytes.toString('latin1');
    const end = line.indexOf('\r\n');
    const parts = line.slice(0, end).split(' ');
    parts[2 + field] = odd;
    return { bytes: Buffer.from(parts.join(' ') + line.slice(end), 'latin1'), cuts: input.cuts };
  });
const oddV2 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(600), fc.uint8Array({ maxLength: 300 }), cuts)
  .map(([vc, fp, len, body, c]): Input => {
    const l = Buffer.alloc(2); l.writeUInt16BE(len);
    return { bytes: Buffer.concat([V2_SIG, Buffer.from([vc, fp]), l, Buffer.from(body)]), cuts: c };
  });

export const proxyTarget: FuzzTarget<Input> = {
  name: 'proxy-protocol',
  arbitrary: fc.oneof(v1, v2, nearV1, oddV1, oddV2, fc.record({ bytes: fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a)), cuts })),
  corpus: () => corpusOf('fuzz/proxy'),
  fromBytes: (bytes: Buffer, rng: Rng): Input => ({ bytes, cuts: Array.from({ length: rng.int(4) }, () => rng.int(bytes.length + 1)) }),
  check: checkProxy,
  tokens: ['PROXY ', 'TCP4 ', 'TCP6 ', 'UNKNOWN', '\r\n', '::', ':', '.', '%eth0', '1::2:3:4:5:6:7:8', '65535', '\x21\x11', '\x20', '\x31'],
  show: (i) => JSON.stringify({ bytes: i.bytes.toString('latin1'), cuts: i.cuts }),
};
