// Bench (not a test): how fast the webhook dispatcher drains the events of a burst of mail.
// N messages (one recipient each) are submitted over SMTP to a real relay; a local HTTP receiver
// answers 200. Prints submission time, time until every accepted+delivered event arrived, and
// the number of POSTs. Run: npx tsc && node dist/bench/webhooks-drain.js [N]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RelayProcess, eventually } from '../test/helpers/relay-process.js';
import { startDnsServer } from '../test/helpers/dns-server.js';
import { startReceiver } from '../test/helpers/smtp-receiver.js';
import { Submitter } from '../test/helpers/smtp-client.js';

const N = Number(process.argv[2] ?? 200);
const dns = await startDnsServer();
const mx = await startReceiver({ host: '127.0.0.2', tls: false });
dns.setZone({ 'example.net': { MX: [{ exchange: 'mx.example.net', priority: 10 }] }, 'mx.example.net': { A: ['127.0.0.2'] } });
let events = 0, posts = 0;
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => { posts++; events += (JSON.parse(Buffer.concat(chunks).toString()) as { events: unknown[] }).events.length; res.writeHead(204).end(); });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const relay = await RelayProcess.create({ dns: { servers: [`127.0.0.1:${dns.port}`] }, delivery: { port: mx.port } });
await relay.cli(['users', 'add', 'alice', '--any-domain'], 'correct horse battery\n');
await relay.cli(['webhooks', 'add', '--url', `http://127.0.0.1:${(server.address() as AddressInfo).port}/`]);
await relay.start();
const sub = new Submitter({ port: relay.port('submission'), user: 'alice', pass: 'correct horse battery' });
const t0 = Date.now();
for (let i = 0; i < N; i++) await sub.send('alice@example.com', [`r${i}@example.net`], `Subject: ${i}\r\n\r\nbody\r\n`);
const t1 = Date.now();
await eventually(() => mx.messages.length >= N, 120_000, 20);
const t2 = Date.now();
await eventually(() => events >= 2 * N, 120_000, 20);
const t3 = Date.now();
console.log(JSON.stringify({ messages: N, submitMs: t1 - t0, deliveredAfterMs: t2 - t0, allEventsAfterMs: t3 - t0, eventsLagAfterDeliveryMs: t3 - t2, posts, events }));
sub.close();
await relay.cleanup();
server.close(); await mx.close(); await dns.close();
