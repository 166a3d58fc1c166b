// What one client address is for the per-client limits: IPv4 as is, IPv4-mapped IPv6 as its IPv4,
// IPv6 per /64 in one spelling whatever the notation.
import test from 'node:test';
import assert from 'node:assert/strict';
import { clientKey } from './client-key.js';

test('clientKey: IPv6 per /64 in every notation, IPv4-mapped as IPv4', () => {
  const cases: [string, string][] = [
    ['2001:db8:1:2:aaaa::1', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::ffff', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:0:0:0:1', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8:1:3::1', '2001:db8:1:3::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::FFFF:192.0.2.7', '192.0.2.7'],
    ['192.0.2.7', '192.0.2.7'],
  ];
  for (const [ip, key] of cases) assert.equal(clientKey(ip), key, ip);
});
