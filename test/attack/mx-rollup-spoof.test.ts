// Attacker's pass (hostile MX answers): a recipient domain the attacker owns must not roll up to a
// big provider (and so share its shaping state) while its mail goes to the attacker's own MX: else
// that MX answers "421 4.7.28 …" and the relay suspends Gmail for every sender on that egress
// source. Over real DNS (the test DNS server on loopback, the relay's resolver): only the most
// preferred MX hosts count, and they must all be the provider's.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ProviderDirectory } from '../../src/delivery/provider-directory.js';
import { createResolver } from '../../src/delivery/resolver.js';
import { startDnsServer } from '../helpers/dns-server.js';

test('a hostile MX set cannot spoof a provider rollup', async (t) => {
  const dns = await startDnsServer();
  t.after(() => dns.close());
  // The attacker's MX is preferred; a Google host is listed as a never-used backup.
  dns.set('evil.test', 'MX', [{ exchange: 'mx.evil.test', priority: 5 }, { exchange: 'aspmx.l.google.com', priority: 50 }]);
  // Same priority, Google listed first: delivery spreads over both, half of it to the attacker.
  dns.set('tie.test', 'MX', [{ exchange: 'aspmx.l.google.com', priority: 10 }, { exchange: 'mx.evil.test', priority: 10 }]);
  // A hostile host name that only looks like Google's.
  dns.set('look.test', 'MX', [{ exchange: 'aspmx.l.google.com.evil.test', priority: 10 }]);
  // A real Workspace domain with a third-party backup MX still rolls up to gmail.
  dns.set('ws.test', 'MX', [
    { exchange: 'aspmx.l.google.com', priority: 1 }, { exchange: 'alt1.aspmx.l.google.com', priority: 5 }, { exchange: 'mx.backup.test', priority: 20 },
  ]);
  const resolver = createResolver({ servers: [{ host: dns.host, port: dns.port }], timeout: 1000 });
  const dir = new ProviderDirectory(resolver, { now: () => 1000 });
  await dir.learn(['evil.test', 'tie.test', 'look.test', 'ws.test'], 5000);
  assert.equal(dir.known('evil.test'), 'mx:evil.test');
  assert.notEqual(dir.known('tie.test'), 'gmail');
  assert.equal(dir.known('look.test'), 'mx:evil.test');
  assert.equal(dir.known('ws.test'), 'gmail');
  assert.deepEqual([...dir.domainsOf('gmail')], ['ws.test']);
});
