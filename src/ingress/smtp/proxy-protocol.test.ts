import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyHeaderParser, parseProxyHeader, V1_MAX_BYTES, V2_MAX_BYTES, type ProxyParse } from './proxy-protocol.js';
import { proxyV1, proxyV2 } from '../../../test/helpers/proxy-header.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');

/**
 * Feeds `wire` in chunks of `chunkSize`, stopping at the first result; the bytes never fed are
 * appended to `rest`, so the outcome is comparable with parsing `wire` whole.
 */
function feed(wire: Buffer, chunkSize: number): ProxyParse {
  const parser = new ProxyHeaderParser();
  let r: ProxyParse = { status: 'more' };
  let fed = 0;
  while (fed < wire.length && r.status === 'more') {
    r = parser.push(wire.subarray(fed, fed + chunkSize));
    fed = Math.min(wire.length, fed + chunkSize);
  }
  return r.status === 'done' ? { ...r, rest: Buffer.concat([r.rest, wire.subarray(fed)]) } : r;
}

/** Whole, in small chunks, and at every two-piece split: the same result. */
function parseAllWays(wire: Buffer): ProxyParse {
  const whole = parseProxyHeader(wire);
  for (const size of [1, 2, 3, 7, wire.length]) assert.deepEqual(feed(wire, size), whole, `chunks of ${size}`);
  for (let i = 1; i < wire.length; i++) {
    const p = new ProxyHeaderParser();
    const first = p.push(wire.subarray(0, i));
    const r = first.status === 'done' ? { ...first, rest: Buffer.concat([first.rest, wire.subarray(i)]) } : first.status === 'more' ? p.push(wire.subarray(i)) : first;
    assert.deepEqual(r, whole, `split at ${i}`);
  }
  return whole;
}

function done(r: ProxyParse) {
  assert.equal(r.status, 'done', JSON.stringify(r));
  return r as Extract<ProxyParse, { status: 'done' }>;
}

test('v1 TCP4: source, destination, and the SMTP bytes after the header', () => {
  const r = done(parseAllWays(bytes('PROXY TCP4 203.0.113.7 192.0.2.1 40001 587\r\nEHLO x\r\n')));
  assert.equal(r.version, 1);
  assert.deepEqual(r.source, { address: '203.0.113.7', port: 40001 });
  assert.deepEqual(r.destination, { address: '192.0.2.1', port: 587 });
  assert.equal(r.rest.toString('latin1'), 'EHLO x\r\n');
});

test('v1 TCP6: addresses normalised; IPv4-mapped becomes plain IPv4', () => {
  const r = done(parseAllWays(bytes('PROXY TCP6 2001:0db8:0:0:0:0:0:0042 ::1 65535 0\r\n')));
  assert.deepEqual(r.source, { address: '2001:db8::42', port: 65535 });
  assert.deepEqual(r.destination, { address: '::1', port: 0 });
  assert.deepEqual(done(parseProxyHeader(bytes('PROXY TCP6 ::ffff:203.0.113.9 ::1 1 2\r\n'))).source, { address: '203.0.113.9', port: 1 });
});

test('v1 UNKNOWN: no client address (the socket peer is kept), rest preserved', () => {
  for (const wire of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n']) {
    const r = done(parseAllWays(bytes(wire + 'X')));
    assert.equal(r.source, null);
    assert.equal(r.rest.toString(), 'X');
  }
});

test('v1: the longest legal header (107 bytes) passes; one byte more is refused before any LF arrives', () => {
  const longest = 'PROXY UNKNOWN ' + 'f'.repeat(V1_MAX_BYTES - 16) + '\r\n';
  assert.equal(longest.length, V1_MAX_BYTES);
  done(parseProxyHeader(bytes(longest)));
  assert.equal(parseProxyHeader(bytes('PROXY UNKNOWN ' + 'f'.repeat(V1_MAX_BYTES - 15) + '\r\n')).status, 'invalid');
  // without a line end, the parser gives up at 107 bytes instead of buffering forever
  assert.equal(parseProxyHeader(bytes('PROXY ' + 'x'.repeat(V1_MAX_BYTES - 7))).status, 'more');
  assert.equal(parseProxyHeader(bytes('PROXY ' + 'x'.repeat(V1_MAX_BYTES - 6))).status, 'invalid');
});

test('v1 malformed headers are invalid, with a reason', () => {
  const bad = [
    'PROXY TCP4 203.0.113.7 192.0.2.1 40001 587\n', // bare LF
    'PROXY TCP4 203.0.113.7 192.0.2.1 40001\r\n', // missing field
    'PROXY TCP4 203.0.113.7  192.0.2.1 40001 587\r\n', // double space
    'PROXY TCP4 203.0.113.7 192.0.2.1 40001 587 9\r\n', // extra field
    'PROXY TCP5 203.0.113.7 192.0.2.1 40001 587\r\n',
    'PROXY TCP4 2001:db8::1 192.0.2.1 40001 587\r\n', // family mismatch
    'PROXY TCP6 203.0.113.7 ::1 40001 587\r\n',
    'PROXY TCP4 203.0.113.256 192.0.2.1 40001 587\r\n',
    'PROXY TCP4 203.0.113.7 192.0.2.1 65536 587\r\n',
    'PROXY TCP4 203.0.113.7 192.0.2.1 040001 587\r\n', // leading zero
    'PROXY TCP4 203.0.113.7 192.0.2.1 -1 587\r\n',
    'PROXY tcp4 203.0.113.7 192.0.2.1 1 2\r\n',
    'PROXY \r\n',
  ];
  for (const wire of bad) {
    const r = parseAllWays(bytes(wire));
    assert.equal(r.status, 'invalid', wire);
    assert.ok((r as { reason: string }).reason.length > 0);
  }
});

test('garbage is refused at the first byte that cannot start a header', () => {
  for (const wire of ['EHLO client.test\r\n', 'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n', 'PROXYTCP4\r\n', '\x16\x03\x01\x02\x00', 'GET / HTTP/1.1\r\n']) {
    const p = new ProxyHeaderParser();
    let r: ProxyParse = { status: 'more' };
    let used = 0;
    for (const b of bytes(wire)) { used++; r = p.push(Buffer.from([b])); if (r.status !== 'more') break; }
    assert.equal(r.status, 'invalid', wire);
    assert.ok(used <= 6, `${JSON.stringify(wire)} refused after ${used} bytes`);
  }
  assert.equal(parseProxyHeader(Buffer.alloc(0)).status, 'more');
});

test('v2 PROXY over TCP/IPv4, with the bytes after it', () => {
  const wire = Buffer.concat([proxyV2({ source: { address: '203.0.113.7', port: 40002 }, destination: { address: '192.0.2.1', port: 465 } }), bytes('\x16\x03\x01')]);
  const r = done(parseAllWays(wire));
  assert.equal(r.version, 2);
  assert.deepEqual(r.source, { address: '203.0.113.7', port: 40002 });
  assert.deepEqual(r.destination, { address: '192.0.2.1', port: 465 });
  assert.deepEqual([...r.rest], [0x16, 0x03, 0x01]);
});

test('v2 PROXY over TCP/IPv6, canonical text', () => {
  const r = done(parseAllWays(proxyV2({ source: { address: '2001:db8:0:0:1::7', port: 1 }, destination: { address: '2001:db8::25', port: 25 } })));
  assert.deepEqual(r.source, { address: '2001:db8::1:0:0:7', port: 1 });
  assert.deepEqual(r.destination, { address: '2001:db8::25', port: 25 });
});

test('v2 TLVs are skipped, whatever their content', () => {
  const tlvs: [number, Buffer][] = [[0x01, bytes('smtp')], [0x04, Buffer.alloc(4)], [0xea, Buffer.alloc(300, 0xff)], [0x20, Buffer.from([0x07, 0, 0, 0, 0, 0x21, 0, 3, 0x54, 0x4c, 0x53])]];
  const wire = Buffer.concat([proxyV2({ tlvs }), bytes('QUIT\r\n')]);
  const r = done(parseAllWays(wire));
  assert.deepEqual(r.source, { address: '203.0.113.7', port: 40000 });
  assert.equal(r.rest.toString(), 'QUIT\r\n');
});

test('v2 LOCAL (health checks) and AF_UNSPEC/AF_UNIX: no client address', () => {
  assert.equal(done(parseAllWays(proxyV2({ command: 'LOCAL', famProto: 0 }))).source, null);
  assert.equal(done(parseAllWays(proxyV2({ command: 'LOCAL' }))).source, null); // LOCAL ignores any address block
  const unspec = Buffer.concat([proxyV2({ command: 'LOCAL', famProto: 0 })]);
  unspec[12] = 0x21; // PROXY command, AF_UNSPEC
  assert.equal(done(parseProxyHeader(unspec)).source, null);
  const unix = proxyV2({ famProto: 0x31, tlvs: [[0x04, Buffer.alloc(216 - 12 - 3)]] });
  assert.equal(done(parseProxyHeader(unix)).source, null);
});

test('v2 malformed headers are invalid', () => {
  const cases: [string, (b: Buffer) => void][] = [
    ['version 1', (b) => { b[12] = 0x11; }],
    ['version 3', (b) => { b[12] = 0x31; }],
    ['command 2', (b) => { b[12] = 0x22; }],
    ['DGRAM', (b) => { b[13] = 0x12; }],
    ['family 4', (b) => { b[13] = 0x41; }],
    ['IPv6 family with an IPv4-sized block', (b) => { b[13] = 0x21; }],
    ['block shorter than the addresses', (b) => { b.writeUInt16BE(8, 14); }],
    ['bad signature', (b) => { b[7] = 0x50; }],
  ];
  for (const [name, corrupt] of cases) {
    const wire = Buffer.from(proxyV2());
    corrupt(wire);
    assert.equal(parseAllWays(wire).status, 'invalid', name);
  }
});

test('v2 oversized: refused from the 16 fixed bytes, before the body is buffered', () => {
  const head = Buffer.from(proxyV2().subarray(0, 16));
  head.writeUInt16BE(V2_MAX_BYTES - 16 + 1, 14);
  assert.equal(parseProxyHeader(head).status, 'invalid');
  head.writeUInt16BE(V2_MAX_BYTES - 16, 14);
  assert.equal(parseProxyHeader(head).status, 'more');
  const largest = proxyV2({ tlvs: [[0xe0, Buffer.alloc(V2_MAX_BYTES - 16 - 12 - 3)]] });
  assert.equal(largest.length, V2_MAX_BYTES);
  done(parseProxyHeader(largest));
});

test('truncated headers stay "more" at every length', () => {
  for (const wire of [bytes(proxyV1('203.0.113.7', 1)), proxyV2(), proxyV2({ source: { address: '2001:db8::1', port: 2 } })]) {
    for (let n = 0; n < wire.length; n++) assert.equal(parseProxyHeader(wire.subarray(0, n)).status, 'more', `${n} of ${wire.length}`);
  }
});

test('after a result the parser is finished: later pushes repeat it', () => {
  const p = new ProxyHeaderParser();
  const r = p.push(bytes('PROXY UNKNOWN\r\nA'));
  assert.deepEqual(p.push(bytes('B')), r);
  const q = new ProxyHeaderParser();
  assert.equal(q.push(bytes('X')).status, 'invalid');
  assert.equal(q.push(bytes('PROXY UNKNOWN\r\n')).status, 'invalid');
});

test('random bytes after plausible prefixes never throw, in any chunking', () => {
  let seed = 42;
  const rand = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  const prefixes = [Buffer.alloc(0), bytes('PROXY '), bytes('PROXY TCP4 '), proxyV2().subarray(0, 12), proxyV2().subarray(0, 16)];
  for (let i = 0; i < 3000; i++) {
    const tail = Buffer.from(Array.from({ length: rand() % 140 }, () => rand() % 256));
    const wire = Buffer.concat([prefixes[i % prefixes.length]!, tail]);
    const r = feed(wire, 1 + (rand() % 9));
    assert.ok(['more', 'done', 'invalid'].includes(r.status));
  }
});

test('v1: an IPv6 address with a zone index is refused (found by fuzzing)', () => {
  // node:net's isIPv6 accepts "fe80::1%eth0"; the spec's TCP6 address has no zone, and a zone
  // names an interface of the balancer, not something a client address can carry.
  for (const line of ['PROXY TCP6 fe80::1%eth0 ::1 40000 25\r\n', 'PROXY TCP6 2001:db8::7 ::1%1 40000 25\r\n', 'PROXY TCP6 1:2:3:4:5:6:7:8%a ::1 1 2\r\n']) {
    assert.equal(parseAllWays(bytes(line)).status, 'invalid', line);
  }
  assert.equal(parseAllWays(bytes('PROXY TCP6 fe80::1 ::1 40000 25\r\n')).status, 'done');
});
