// attack28b: the built relay with PROXY protocol on submission (required) and mx (optional), trusted
// balancer 127.0.84.50; relayNetworks 127.0.0.1/32; next hop the raw sink on 127.0.84.9:44025.
import { RelayProcess } from '/work/wt-attack28b/dist/test/helpers/relay-process.js';
import { seedAcme } from '/work/wt-attack28b/dist/test/helpers/api-fixture.js';
import fs from 'node:fs';
const H = '127.0.84.1';
const proxy = (required) => ({ trusted: ['127.0.84.50/32'], required });
const relay = await RelayProcess.create({
  smtp: { submission: { host: H, port: 44001, proxyProtocol: proxy(true) }, submissions: { host: H, port: 44002 },
    mx: { host: H, port: 44003, proxyProtocol: proxy(false) }, relayNetworks: ['127.0.0.1/32'] },
  http: { host: H, port: 44004 }, metrics: { host: H, port: 44005 },
  localDomains: ['local.test'],
  delivery: { smarthost: { host: '127.0.84.9', port: 44025, tls: 'opportunistic' } },
  dns: { servers: ['127.0.0.1:9'], timeout: '1s' },
  log: { level: 'debug' },
});
const tenant = await seedAcme(relay);
await relay.start();
fs.writeFileSync('/tmp/attack28b/relay.json', JSON.stringify({ dir: relay.dir, pid: relay.child.pid, token: tenant.tokens.app }));
relay.child.stdout.on('data', () => {});
const logf = fs.createWriteStream('/tmp/attack28b/relay.log');
let n = 0;
setInterval(() => { while (n < relay.logs.length) logf.write(JSON.stringify(relay.logs[n++]) + '\n'); }, 200);
relay.child.on('exit', (c, s) => { fs.appendFileSync('/tmp/attack28b/relay.log', `EXIT ${c} ${s}\n`); process.exit(1); });
process.on('SIGTERM', async () => { await relay.cleanup(); process.exit(0); });
