// attack29 (twenty-ninth session): what node:dns (c-ares) returns for hostile answers from the test DNS server:
// an MX name with CR LF (escaped \\013\\010), a CNAME loop (ESERVFAIL), 1,000 MX records, 200 _mta-sts TXT records.
// Run from the repository root after a build: node bench/results/20261207-2200-attack29-dns-probe.mjs
import { startDnsServer } from '../../dist/test/helpers/dns-server.js';
import { Resolver } from 'node:dns/promises';
const dns = await startDnsServer({ host: '127.0.72.1' });
dns.set('crlf.test', 'MX', [{ exchange: 'evil\r\nX-Injected: yes.example', priority: 10 }]);
dns.set('loop.test', 'MX', [{ exchange: 'a.loop.test', priority: 10 }]);
dns.set('a.loop.test', 'CNAME', ['b.loop.test']); dns.set('b.loop.test', 'CNAME', ['a.loop.test']);
dns.set('many.test', 'MX', Array.from({length: 1000}, (_, i) => ({ exchange: `mx${i}.many.test`, priority: i % 3 })));
dns.set('_mta-sts.big.test', 'TXT', Array.from({length: 200}, (_, i) => [`v=STSv1; id=${'x'.repeat(200)}${i};`]));
const r = new Resolver({ timeout: 1000, tries: 1 }); r.setServers([`127.0.72.1:${dns.port}`]);
for (const [n, f] of [['crlf.test', 'resolveMx'], ['a.loop.test', 'resolve4'], ['many.test', 'resolveMx'], ['_mta-sts.big.test', 'resolveTxt']]) {
  try { const v = await r[f](n); console.log(n, JSON.stringify(v).slice(0, 200), Array.isArray(v) ? v.length : ''); } catch (e) { console.log(n, 'ERR', e.code); }
}
await dns.close();
