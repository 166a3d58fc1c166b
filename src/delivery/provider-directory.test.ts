import test from 'node:test';
import assert from 'node:assert/strict';
import { ProviderDirectory } from './provider-directory.js';

test('domains roll up by MX once (cached), remembered per provider; a slow lookup does not hold learn()', async () => {
  let queries = 0;
  const resolver = {
    async resolveMx(domain: string) {
      queries++;
      if (domain === 'slow.example') await new Promise((r) => setTimeout(r, 300));
      if (domain === 'gone.example') throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
      return [{ exchange: domain.startsWith('ws') ? 'ASPMX.L.GOOGLE.COM.' : `mx.${domain}`, priority: 1 }];
    },
  };
  const dir = new ProviderDirectory(resolver, { now: () => 1000 });
  await dir.learn(['ws1.example', 'ws2.example', 'own.example', 'gone.example', 'slow.example'], 50);
  assert.equal(dir.known('ws1.example'), 'gmail');
  assert.equal(dir.known('own.example'), 'mx:own.example');
  assert.equal(dir.known('gone.example'), 'gone.example');
  assert.equal(dir.known('slow.example'), undefined, 'not waited for');
  assert.deepEqual([...dir.domainsOf('gmail')].sort(), ['ws1.example', 'ws2.example']);
  assert.equal(await dir.lookup('slow.example'), 'mx:slow.example');
  await dir.learn(['ws1.example']);
  assert.equal(queries, 5, 'cached');
});
