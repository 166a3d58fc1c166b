// Crash test: kill -9 the relay while messages are being accepted and delivered, restart it, and
// prove every message that got a 250 is delivered. Duplicates (at-least-once) are counted and
// reported; losses fail the test.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { Submitter } from '../helpers/smtp-client.js';

const MESSAGES = 240;
const SESSIONS = 8;
const KILL_AFTER_ACKED = 100;

test(`kill -9 during acceptance and delivery: every acknowledged message is delivered (${MESSAGES} msgs)`, async (t) => {
  const dns = await startDnsServer();
  // smtp-server waits 100 ms before each greeting, so deliveries are in flight when the relay dies.
  const mx = await startReceiver({ host: '127.0.0.2', port: 0 });
  dns.setZone({ 'crash.test': { MX: [{ exchange: 'mx.crash.test', priority: 10 }] }, 'mx.crash.test': { A: ['127.0.0.2'] } });
  const relay = await RelayProcess.create({
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { port: mx.port, pollInterval: '200ms', retrySchedule: { initial: '300ms', factor: 1, max: '300ms', jitter: 0 } },
  });
  t.after(async () => { await relay.cleanup(); await mx.close(); await dns.close(); });
  assert.equal((await relay.cli(['users', 'add', 'loader', '--password', 'load-password-1', '--domain', 'crash.test'])).code, 0);
  await relay.start();
  const port = relay.port('submission');

  const acked = new Set<number>();
  let next = 0;
  let killed = false;
  const killing = (async () => {
    await eventually(() => acked.size >= KILL_AFTER_ACKED && mx.messages.length > 0, 60_000, 5);
    await relay.stop('SIGKILL');
    killed = true;
  })();
  const worker = async () => {
    const sub = new Submitter({ port, user: 'loader', pass: 'load-password-1' });
    while (!killed && next < MESSAGES) {
      const seq = next++;
      try {
        await sub.send('loader@crash.test', [`rcpt${seq % 7}@crash.test`], `Subject: crash ${seq}\r\nX-Seq: ${seq}\r\n\r\nseq ${seq}\r\n`);
        acked.add(seq);
      } catch { break; /* the relay died under us: this one was not acknowledged */ }
    }
    sub.close();
  };
  await Promise.all(Array.from({ length: SESSIONS }, worker));
  await killing;
  const deliveredBeforeCrash = mx.messages.length;

  await relay.start();
  const seqsSeen = () => mx.messages.map((m) => Number(/X-Seq: (\d+)/.exec(m.body.toString())?.[1]));
  await eventually(() => [...acked].every((s) => seqsSeen().includes(s)), 60_000, 100);

  const counts = new Map<number, number>();
  for (const s of seqsSeen()) counts.set(s, (counts.get(s) ?? 0) + 1);
  const lost = [...acked].filter((s) => !counts.has(s));
  const duplicates = [...counts.values()].filter((c) => c > 1).length;
  t.diagnostic(`acknowledged ${acked.size}, delivered before kill ${deliveredBeforeCrash}, distinct delivered ${counts.size}, duplicates ${duplicates}, lost ${lost.length}`);
  assert.deepEqual(lost, [], 'no acknowledged message may be lost');
  assert.ok(acked.size >= KILL_AFTER_ACKED);
});
