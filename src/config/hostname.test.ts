// The hostname check behind the start warning and the `domains records` warning.
import test from 'node:test';
import assert from 'node:assert/strict';
import { hostnameProblem, isFullyQualified } from './hostname.js';

test('a fully qualified hostname passes; short names, localhost and IPs do not', () => {
  const table: [string, boolean][] = [
    ['relay.example.com', true], ['mx1.mail.example.org.', true], ['relay.test', true], ['ip-10-0-0-5.ec2.internal', true],
    ['vm', false], ['localhost', false], ['relay.localdomain', false], ['box.localhost', false], ['192.0.2.10', false], ['::1', false],
  ];
  for (const [name, want] of table) assert.equal(isFullyQualified(name), want, name);
});

test('the problem names the hostname, what it breaks and the fix', () => {
  assert.equal(hostnameProblem('relay.example.com'), null);
  assert.equal(hostnameProblem('vm'),
    'hostname "vm" is not a fully qualified domain name (EHLO, Message-IDs and the SPF hint a:vm would be wrong): '
    + 'set hostname in the config (or POSTLANE_HOSTNAME) to the relay\'s DNS name, e.g. relay.example.com');
});
