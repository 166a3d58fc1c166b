import { RelayProcess } from '/work/wt-attack28/dist/test/helpers/relay-process.js';
import { seedAcme } from '/work/wt-attack28/dist/test/helpers/api-fixture.js';
import fs from 'node:fs';
const H = '127.0.82.1';
const relay = await RelayProcess.create({
  smtp: { submission: { host: H, port: 42001 }, submissions: { host: H, port: 42002 }, mx: { host: H, port: 42003 }, relayNetworks: ['127.0.82.0/24'] },
  http: { host: H, port: 42004 }, metrics: { host: H, port: 42005 },
  localDomains: ['local.test'],
  delivery: { smarthost: { host: '127.0.82.9', port: 42025, tls: 'opportunistic' } },
  dns: { servers: ['127.0.0.1:9'], timeout: '1s' },
  limits: { maxMessageSize: process.env.MAXSIZE ?? '100KB' },
  log: { level: 'debug' },
});
const tenant = await seedAcme(relay);
await relay.start();
fs.writeFileSync('/tmp/attack28/relay.json', JSON.stringify({ dir: relay.dir, pid: relay.child.pid, token: tenant.tokens.app, addresses: relay.addresses }));
relay.child.stdout.on('data', () => {});
const logf = fs.createWriteStream('/tmp/attack28/relay.log');
let n = 0;
setInterval(() => { while (n < relay.logs.length) logf.write(JSON.stringify(relay.logs[n++]) + '\n'); }, 200);
relay.child.on('exit', (c, s) => { fs.appendFileSync('/tmp/attack28/relay.log', `EXIT ${c} ${s}\n`); process.exit(1); });
process.on('SIGTERM', async () => { await relay.cleanup(); process.exit(0); });
