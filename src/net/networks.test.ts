// Which addresses count as public (the webhook SSRF guard): a table of every IPv6 form that embeds
// an IPv4 address (judged by the embedded address), the non-global IPv6 ranges, and the plain
// IPv4 special ranges; and networkMatcher for CIDR lists.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { addressScope, embeddedIpv4, isPublicAddress, networkMatcher } from './networks.js';

// [address, public?, why]
const TABLE: [string, boolean, string][] = [
  // IPv4
  ['8.8.8.8', true, 'public IPv4'],
  ['127.0.0.1', false, 'loopback'],
  ['10.1.2.3', false, 'private'],
  ['169.254.169.254', false, 'link-local (cloud metadata)'],
  ['100.64.0.1', false, 'carrier-grade NAT'],
  ['0.0.0.0', false, 'unspecified (reaches this host on Linux)'],
  ['192.88.99.1', false, '6to4 relay anycast'],
  ['255.255.255.255', false, 'broadcast'],
  // plain IPv6
  ['2606:4700::1111', true, 'global unicast'],
  ['::', false, 'unspecified'],
  ['::1', false, 'loopback'],
  ['fd00::1', false, 'unique local'],
  ['fe80::1', false, 'link-local'],
  ['fe80::1%eth0', false, 'link-local with a zone id'],
  ['ff02::1', false, 'multicast'],
  ['2001:db8::1', false, 'documentation'],
  ['3fff::1', false, 'documentation (RFC 9637)'],
  ['2001:2::1', false, 'benchmarking'],
  ['100::1', false, 'discard'],
  ['5f00::1', false, 'SRv6 SIDs: outside 2000::/3'],
  ['4000::1', false, 'unallocated: outside 2000::/3'],
  // IPv4-mapped ::ffff:0:0/96, dotted and hex
  ['::ffff:127.0.0.1', false, 'mapped loopback'],
  ['::ffff:7f00:1', false, 'mapped loopback, hex'],
  ['::ffff:a9fe:a9fe', false, 'mapped metadata, hex'],
  ['::ffff:8.8.8.8', true, 'mapped public'],
  ['0:0:0:0:0:ffff:0808:0808', true, 'mapped public, long form'],
  // IPv4-translated ::ffff:0:0:0/96 (SIIT)
  ['::ffff:0:127.0.0.1', false, 'translated loopback'],
  ['::ffff:0:808:808', true, 'translated public'],
  // IPv4-compatible ::/96 (deprecated)
  ['::127.0.0.1', false, 'compatible loopback'],
  ['::7f00:1', false, 'compatible loopback, hex (how URL writes [::127.0.0.1])'],
  ['::10.0.0.1', false, 'compatible private'],
  ['::169.254.169.254', false, 'compatible metadata'],
  ['::0.0.0.0', false, 'compatible unspecified'],
  ['::8.8.8.8', true, 'compatible public'],
  // NAT64
  ['64:ff9b::127.0.0.1', false, 'NAT64 well-known prefix, loopback'],
  ['64:ff9b::7f00:1', false, 'NAT64, hex'],
  ['64:ff9b::a00:1', false, 'NAT64, private'],
  ['64:ff9b::8.8.8.8', true, 'NAT64, public'],
  ['64:ff9b:1::8.8.8.8', false, 'local-use NAT64 64:ff9b:1::/48 (not global; layout is the operator\'s)'],
  ['64:ff9b:1:7f00:0:100::', false, 'local-use NAT64 /48 layout'],
  // 6to4 2002::/16: IPv4 in bits 16-47
  ['2002:7f00:1::1', false, '6to4 of 127.0.0.1'],
  ['2002:a9fe:a9fe::', false, '6to4 of 169.254.169.254'],
  ['2002:c0a8:101::1', false, '6to4 of 192.168.1.1'],
  ['2002:808:808::1', true, '6to4 of 8.8.8.8'],
  // Teredo 2001::/32: server in bits 32-63, client inverted in the last 32
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', false, 'Teredo, client 127.0.0.1'],
  ['2001:0:4136:e378:8000:63bf:f5f7:f7f7', false, 'Teredo, client 10.8.8.8'],
  ['2001:0:7f00:1:8000:63bf:f7f7:f7f7', false, 'Teredo, server 127.0.0.1'],
  ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', true, 'Teredo, public server 65.54.227.120 and client 8.8.8.8'],
  ['2001::', false, 'Teredo, server 0.0.0.0'],
  // not addresses
  ['example.com', false, 'a name is not an address'],
  ['', false, 'empty'],
];

describe('isPublicAddress', () => {
  for (const [ip, expected, why] of TABLE) {
    it(`${ip || '(empty)'}: ${expected ? 'public' : 'not public'} (${why})`, () => assert.equal(isPublicAddress(ip), expected));
  }
});

describe('addressScope', () => {
  const cases: [string, string][] = [
    ['8.8.8.8', 'public'], ['2606:4700::1111', 'public'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['192.168.1.1', 'private'], ['100.64.0.1', 'private'], ['fd00::1', 'private'], ['::ffff:10.0.0.1', 'private'],
    ['127.0.0.1', 'special'], ['0.0.0.0', 'special'], ['169.254.169.254', 'special'], ['::1', 'special'], ['::', 'special'], ['fe80::1%eth0', 'special'],
    ['::ffff:127.0.0.1', 'special'], ['::ffff:169.254.169.254', 'special'], ['64:ff9b::7f00:1', 'special'], ['224.0.0.1', 'special'], ['192.0.2.1', 'special'], ['mx.example', 'special'],
  ];
  for (const [ip, scope] of cases) it(`${ip}: ${scope}`, () => assert.equal(addressScope(ip), scope));
});

describe('embeddedIpv4', () => {
  it('unwraps every IPv4-carrying form', () => {
    assert.deepEqual(embeddedIpv4('::ffff:7f00:1'), ['127.0.0.1']);
    assert.deepEqual(embeddedIpv4('::127.0.0.1'), ['127.0.0.1']);
    assert.deepEqual(embeddedIpv4('::'), ['0.0.0.0']);
    assert.deepEqual(embeddedIpv4('64:ff9b::c000:221'), ['192.0.2.33']);
    assert.deepEqual(embeddedIpv4('2002:c000:221::'), ['192.0.2.33']);
    assert.deepEqual(embeddedIpv4('2001:0:4136:e378:8000:63bf:3fff:fdd2'), ['65.54.227.120', '192.0.2.45']); // RFC 4380 §4 example
    assert.deepEqual(embeddedIpv4('2606:4700::1111'), []);
    assert.deepEqual(embeddedIpv4('127.0.0.1'), []);
  });
});

describe('networkMatcher', () => {
  it('matches IPs in the CIDRs, bare IPs as /32 or /128', () => {
    const m = networkMatcher(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
    assert.equal(m('10.9.9.9'), true);
    assert.equal(m('192.0.2.7'), true);
    assert.equal(m('192.0.2.8'), false);
    assert.equal(m('2001:db8::5'), true);
    assert.equal(m('not-an-ip'), false);
    assert.equal(networkMatcher([])('10.0.0.1'), false);
  });

  it('answers IPv4 addresses as a BlockList of the same CIDRs does (IPv4 masks, then IPv6 rules)', () => {
    const lists = [
      ['0.0.0.0/0'], ['127.0.0.0/8', '10.0.0.0/8'], ['192.168.1.77/24', '172.16.0.0/12', '8.8.8.8'],
      ['255.255.255.255/32', '1.2.3.4/31'], ['203.0.113.0/25', '::ffff:10.0.0.0/104'], ['::/0'], ['2001:db8::/32', '100.64.0.0/10'],
    ];
    const rnd = (n: number) => Math.floor(Math.random() * n);
    const ips = ['0.0.0.0', '255.255.255.255', '127.0.0.1', '10.255.255.255', '11.0.0.0', '192.168.1.1', '192.168.2.1',
      '172.31.255.255', '172.32.0.0', '8.8.8.8', '8.8.8.9', '1.2.3.5', '1.2.3.6', '203.0.113.127', '203.0.113.128', '100.127.0.1',
      ...Array.from({ length: 2000 }, () => [rnd(256), rnd(256), rnd(256), rnd(256)].join('.'))];
    for (const cidrs of lists) {
      const m = networkMatcher(cidrs);
      const reference = new net.BlockList();
      for (const cidr of cidrs) {
        const [addr = '', bits] = cidr.split('/');
        const type = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
        reference.addSubnet(addr, bits === undefined ? (type === 'ipv6' ? 128 : 32) : Number(bits), type);
      }
      for (const ip of ips) assert.equal(m(ip), reference.check(ip, 'ipv4'), `${ip} in ${cidrs.join(' ')}`);
    }
  });
});
