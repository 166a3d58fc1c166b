// The HTTP API's per-request stages on the main thread, one at a time, warm (TurboFan), in µs a call:
// the JSON body's parse (secure-json-parse, fastify's parser), zod's safeParse of sendMessageRequest,
// prepareMessage, the MIME build (msg.build), the 202 answer's serialisation (JSON.stringify, as fastify
// without a response schema), and the bare cost of an async hook (a promise and its then) against a
// callback hook. To set against api-send's main-thread CPU a message (0.6–0.9 ms): which of fastify's
// per-request steps and validation could matter at all (api21, bench/README.md).
//   node bench/api-stages.mjs [DIST_ROOT=dist] [ITERATIONS=20000]
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(process.argv[2] ?? 'dist');
const N = Number(process.argv[3] ?? 20000);
const load = (rel) => import(pathToFileURL(path.join(root, rel)).href);
const require = createRequire(pathToFileURL(path.join(root, '..', 'package.json')).href);
const sjson = require('secure-json-parse');
const [{ sendMessageRequest }, { prepareMessage }] = await Promise.all(['src/ingress/http/message-request.js', 'src/ingress/http/compose.js'].map(load));

// bench/api-client.ts's body
const body = JSON.stringify({
  from: 'App <app@acme.test>', to: ['bob@dest.test'], subject: 'Your receipt', text: 'Thanks! '.repeat(200),
  html: `<p>${'Thanks! '.repeat(200)}</p>`, tags: ['receipt'], metadata: { order: '1' },
});
const limits = { maxRecipients: 100, maxLineLength: 1000, maxScheduleAheadMs: 3_600_000 };
const answer = { id: '4ZK1x2y3z4AbC', recipients: [{ email: 'bob@dest.test', id: '4ZK1x2y3z4AbC.0', message_id: '4ZK1x2y3z4AbC', status: 'queued' }] };

async function time(name, fn) {
  for (let i = 0; i < N; i++) await fn(i); // warm-up: TurboFan
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await fn(i);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
  console.log(`${name.padEnd(46)} ${us.toFixed(2)} µs`);
  return us;
}
const now = Date.now();
const parsed = sjson.parse(body, null, { protoAction: 'error', constructorAction: 'error' });
const data = sendMessageRequest.parse(parsed);
const prepared = prepareMessage(data, limits, now);
console.log(`${N} iterations each (after as many warm-up ones), ${root}`);
const empty = await time('an empty awaited step (the loop itself)', () => undefined);
await time('JSON body parse (secure-json-parse)', () => { sjson.parse(body, null, { protoAction: 'error', constructorAction: 'error' }); });
await time('zod sendMessageRequest.safeParse', () => { if (!sendMessageRequest.safeParse(parsed).success) throw new Error('invalid'); });
await time('prepareMessage', () => { prepareMessage(data, limits, now); });
await time('MIME build (msg.build)', (i) => prepared.build(`4ZK1x2y3z4A${i % 100}`, 'relay.test', now));
await time('202 answer JSON.stringify', () => { JSON.stringify(answer); });
const asyncHook = async () => undefined;
await time('async hook: fn() + then (fastify runs it so)', () => new Promise((resolve) => { asyncHook().then(resolve); }));
await time('callback hook: fn(done)', () => new Promise((resolve) => { ((done) => done())(resolve); }));
console.log(`(each line includes the empty step's ${empty.toFixed(2)} µs)`);
