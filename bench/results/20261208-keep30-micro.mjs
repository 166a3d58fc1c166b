// micro.mjs BUILD N: N messages delivered one after another over one pooled session (SmtpAttempt + ConnectionPool
// of BUILD's dist/src) to smtp-sink at 127.0.63.9:46391, with a stop signal as the scheduler passes. Under callgrind,
// (count(2N) - count(N)) / N = the client path's instructions a message.
import { setMaxListeners } from 'node:events';
const [BUILD, N] = [process.argv[2], Number(process.argv[3])];
const { SmtpAttempt } = await import(`${BUILD}/dist/src/delivery/attempt.js`);
const { ConnectionPool } = await import(`${BUILD}/dist/src/delivery/connection-pool.js`);
const { loadConfig } = await import(`${BUILD}/dist/src/config/load.js`);
const config = loadConfig({ env: {}, overrides: { hostname: 'relay.test', 'delivery.maxMessagesPerConnection': 1000000, 'delivery.idleConnectionTimeout': '60s' } });
const BODY = Buffer.alloc(4096, 'x'); BODY.write('Subject: hi\r\n\r\n'); BODY.write('\r\n', 4094);
const store = { readMessage: async () => BODY, readBody: () => { throw new Error('no'); } };
const pool = new ConnectionPool({ config });
const attempt = new SmtpAttempt({ pool, store });
const stop = new AbortController(); setMaxListeners(0, stop.signal);
const target = { host: '127.0.63.9', address: '127.0.63.9', port: 46391, auth: null, security: { level: 'none', source: 'policy', names: [], tlsa: [] } };
const m = { messageId: 'M1', mailFrom: 'a@src.test', size: BODY.length, recipients: ['r@dst.test'], destination: 'dst.test' };
for (let i = 0; i < N; i++) { const r = await attempt.run(m, target, stop.signal); if (r.hostFailure) throw new Error(JSON.stringify(r.hostFailure)); }
pool.closeAll(); await pool.drain(2000);
