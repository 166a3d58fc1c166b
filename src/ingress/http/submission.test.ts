// HttpSubmission's split into one copy per recipient, without sockets or a store: one putMany for
// all the copies, each with its own tokens and no Bcc; the quota charged once for the recipients
// (never per copy); a suppressed recipient marked in its own copy and reported; a store failure
// is 503 with every body removed; copies over maxMessageSize together are 413 before any charge.
import { fixedLinkBase } from '../../accounts/link-base.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { BodyWriter, NewMessage, QueueStore } from '../../store/store.js';
import type { Suppression } from '../../store/suppression-store.js';
import type { ApiKeyRecord } from '../../store/platform-store.js';
import { fixedSecrets } from '../../events/secret-ring.js';
import { readTrackingToken } from '../../events/tracking-token.js';
import { readUnsubscribeToken } from '../../events/unsubscribe.js';
import { prepareMessage } from './compose.js';
import { sendMessageRequest } from './message-request.js';
import { HttpSubmission } from './submission.js';
import { ApiError } from './api-error.js';

const NOW = Date.UTC(2025, 6, 1, 12);
const logger = pino({ level: 'silent' });
const secrets = fixedSecrets(Buffer.alloc(32, 2));
const key: ApiKeyRecord = { id: 'k1', account: 'acme', name: null, secretHash: '', scopes: ['send'] as ApiKeyRecord['scopes'], limits: {}, createdAt: 0, lastUsedAt: null, revokedAt: null };
const ctx = { key, clientIp: '192.0.2.9', secure: false, tls: null };

function fakeStore(opts: { failPutMany?: boolean; failPut?: boolean; suppressed?: string[]; lookupInPut?: boolean } = {}) {
  const bodies = new Map<string, Buffer>();
  const aborted: string[] = [];
  const put: NewMessage[] = [];
  const batches: NewMessage[][] = [];
  const checked: NewMessage[] = [];
  const lookups: string[][] = [];
  const found = (account: string, addresses: string[]) =>
    new Map(addresses.filter((a) => opts.suppressed?.includes(a)).map((a): [string, Suppression] =>
      [a, { account, address: a, scope: 'all', reason: 'hard-bounce', source: 'cli', messageId: null, detail: null, createdAt: NOW - 1000 }]));
  const store = {
    async listDomainNames() { return ['acme.test']; },
    async findSuppressions(account: string, _stream: string, addresses: string[]) {
      lookups.push(addresses);
      return found(account, addresses);
    },
    suppressionLookupInPut: opts.lookupInPut ?? true,
    async putCheckingSuppressions(m: NewMessage) {
      if (opts.failPut) throw new Error('connection lost');
      checked.push(m);
      return found(m.meta!.account, m.recipients);
    },
    createBody(id: string): BodyWriter {
      const parts: Buffer[] = [];
      return {
        get bytesWritten() { return parts.reduce((n, p) => n + p.length, 0); },
        async write(c: Buffer) { parts.push(Buffer.from(c)); },
        async finish() { bodies.set(id, Buffer.concat(parts)); },
        async abort() { aborted.push(id); bodies.delete(id); },
      };
    },
    async put(m: NewMessage) { put.push(m); },
    async putMany(ms: NewMessage[]) { if (opts.failPutMany) throw new Error('connection lost'); batches.push(ms); },
  } as unknown as QueueStore;
  return { store, bodies, aborted, put, batches, checked, lookups };
}

/** `limited`: the quota's answer to "would a charge meter this key?"; absent: the quota cannot say (no fold). */
function submission(mem: ReturnType<typeof fakeStore>, maxMessageSize = 1_000_000, limited?: boolean) {
  const charges: number[] = [];
  const queued: string[] = [];
  const http = new HttpSubmission({
    store: mem.store, hostname: 'relay.test', clock: { now: () => NOW }, logger, maxMessageSize,
    quota: {
      charge: async (_s, n = 1) => { charges.push(n); return { ok: true } as never; },
      ...(limited === undefined ? {} : { limited: async () => limited }),
    },
    tracking: { secrets, links: fixedLinkBase('https://relay.example'), logger, defaults: { opens: false, clicks: false, streams: ['broadcast'] } },
    unsubscribe: { secrets, links: fixedLinkBase('https://relay.example'), bounceLabel: null, logger },
    onQueued: (id) => queued.push(id),
  });
  return { http, charges, queued };
}

const request = (over: Record<string, unknown> = {}) => prepareMessage(sendMessageRequest.parse({
  from: 'news@acme.test', to: ['bob@dest.test'], cc: ['carol@dest.test'], bcc: ['dave@dest.test'], subject: 'sale',
  html: '<html><body><a href="https://shop.example/">Shop</a></body></html>', stream: 'broadcast', track: { opens: true, clicks: true }, ...over,
}), { maxRecipients: 100, maxLineLength: 1000, maxScheduleAheadMs: 3_600_000 }, NOW);

test('split over HTTP: one putMany, a copy per recipient with its own tokens and no Bcc, charged once, suppressed in its own copy', async () => {
  const mem = fakeStore({ suppressed: ['carol@dest.test'] });
  const { http, charges, queued } = submission(mem);
  const r = await http.submit(request(), ctx);
  assert.deepEqual(charges, [2], 'the recipients not suppressed, once');
  assert.equal(mem.put.length, 0);
  const copies = mem.batches[0]!;
  assert.deepEqual(copies.map((c) => c.recipients), [['bob@dest.test'], ['carol@dest.test'], ['dave@dest.test']]);
  assert.deepEqual(queued, copies.map((c) => c.id));
  assert.equal(r.id, copies[0]!.id);
  assert.deepEqual(r.recipients.map((e) => [e.email, e.id, e.message_id, e.status]),
    copies.map((c, i) => [c.recipients[0], `${c.id}.0`, c.id, i === 1 ? 'suppressed' : 'queued']));
  assert.deepEqual(copies.map((c) => c.suppressed?.map((s) => s.address)), [undefined, ['carol@dest.test'], undefined]);
  for (const c of copies) {
    const raw = mem.bodies.get(c.id)!.toString('latin1');
    assert.equal(c.size, Buffer.byteLength(raw, 'latin1'));
    assert.deepEqual(c.meta, { account: 'acme', tags: [], metadata: {}, stream: 'broadcast' });
    assert.match(raw, new RegExp(`^Received: from \\[192\\.0\\.2\\.9\\][^]*? id ${c.id};`));
    assert.doesNotMatch(raw.split('\r\n\r\n')[0]!, /^bcc:/im);
    assert.match(raw, new RegExp(`\r\nMessage-ID: <${c.id}@relay\\.test>\r\n`), 'its own Message-ID');
    if (c.recipients[0] !== 'dave@dest.test') assert.doesNotMatch(raw, /dave@/, 'the Bcc recipient is named in its own copy only');
    const open = /\/t\/o\/([^"]+)\.gif/.exec(raw)![1]!;
    assert.deepEqual(readTrackingToken(secrets, open, 'open'), { kind: 'open', account: 'acme', messageId: c.id, recipient: c.recipients[0] });
    const unsub = /List-Unsubscribe: <https:\/\/relay\.example\/u\/([^>]+)>/.exec(raw)![1]!;
    assert.deepEqual(readUnsubscribeToken(secrets, unsub), { account: 'acme', recipient: c.recipients[0], messageId: c.id, scope: 'broadcast' });
  }
});

test('no per-recipient content: one message for all recipients, one put; message_id is the id', async () => {
  const mem = fakeStore();
  const { http, charges } = submission(mem);
  const r = await http.submit(request({ stream: 'transactional', track: undefined }), ctx);
  assert.deepEqual([charges, mem.batches.length, mem.put.map((m) => m.recipients)], [[3], 0, [['bob@dest.test', 'carol@dest.test', 'dave@dest.test']]]);
  assert.deepEqual(r.recipients.map((e) => [e.id, e.message_id]), [0, 1, 2].map((i) => [`${r.id}.${i}`, r.id]));
});

test('split over HTTP: a store failure is 503 and removes every copy; copies too big together are 413 before the charge', async () => {
  const failing = fakeStore({ failPutMany: true });
  const f = submission(failing);
  await assert.rejects(f.http.submit(request(), ctx), (err: unknown) => err instanceof ApiError && err.status === 503);
  assert.equal(failing.aborted.length, 3);
  assert.deepEqual(f.queued, []);
  const small = fakeStore();
  const oneFits = (await request().build('01JZ0000000000000000', 'relay.test', NOW)).length * 2;
  const s = submission(small, oneFits);
  await assert.rejects(s.http.submit(request(), ctx), (err: unknown) => err instanceof ApiError && err.status === 413 && /one copy per recipient/i.test(err.message));
  assert.deepEqual([s.charges, small.batches, small.aborted], [[], [], []]);
});

test('nothing to charge: the suppression lookup is the put’s (one store call), suppressed recipients marked and reported', async () => {
  const mem = fakeStore({ suppressed: ['carol@dest.test'] });
  const { http, charges, queued } = submission(mem, 1_000_000, false);
  const r = await http.submit(request({ stream: 'transactional', track: undefined }), ctx);
  assert.deepEqual([mem.lookups, mem.put, charges], [[], [], []], 'no separate lookup, no plain put, no charge');
  const m = mem.checked[0]!;
  assert.deepEqual([m.recipients, m.suppressed, queued], [['bob@dest.test', 'carol@dest.test', 'dave@dest.test'], undefined, [r.id]]);
  assert.deepEqual(r.recipients.map((e) => [e.email, e.status, e.suppression?.reason]),
    [['bob@dest.test', 'queued', undefined], ['carol@dest.test', 'suppressed', 'hard-bounce'], ['dave@dest.test', 'queued', undefined]]);
  assert.equal(r.recipients[1]!.suppression!.since, new Date(NOW - 1000).toISOString());
});

test('limits to charge: the lookup comes first and the charge counts the others; a split message looks up first too', async () => {
  const limited = fakeStore({ suppressed: ['carol@dest.test'] });
  const l = submission(limited, 1_000_000, true);
  await l.http.submit(request({ stream: 'transactional', track: undefined }), ctx);
  assert.deepEqual([limited.lookups.length, limited.checked.length, limited.put.length, l.charges], [1, 0, 1, [2]]);
  assert.deepEqual(limited.put[0]!.suppressed!.map((s) => s.address), ['carol@dest.test']);
  const split = fakeStore({ suppressed: ['carol@dest.test'] });
  const s = submission(split, 1_000_000, false);
  const r = await s.http.submit(request(), ctx);
  assert.deepEqual([split.lookups.length, split.checked.length, split.batches[0]!.length], [1, 0, 3]);
  assert.equal(r.recipients[1]!.status, 'suppressed');
});

test('nothing to charge: a failed put is 503, its body removed, nothing reported queued', async () => {
  const mem = fakeStore({ failPut: true });
  const { http, queued } = submission(mem, 1_000_000, false);
  await assert.rejects(http.submit(request({ stream: 'transactional', track: undefined }), ctx), (err: unknown) => err instanceof ApiError && err.status === 503);
  assert.deepEqual([mem.aborted.length, queued], [1, []]);
});

test('a store that does not gain by it (suppressionLookupInPut false): the lookup stays its own call', async () => {
  const mem = fakeStore({ suppressed: ['carol@dest.test'], lookupInPut: false });
  const { http, charges } = submission(mem, 1_000_000, false);
  const r = await http.submit(request({ stream: 'transactional', track: undefined }), ctx);
  assert.deepEqual([mem.lookups.length, mem.checked.length, mem.put.length, charges], [1, 0, 1, [2]]);
  assert.equal(r.recipients[1]!.status, 'suppressed');
});

test('sending domains: requests that miss while listDomainNames runs share it; a failed lookup is a 503 for them and is asked again', async () => {
  const mem = fakeStore();
  let calls = 0;
  let open!: () => void;
  let gate: Promise<void> = new Promise((resolve) => { open = resolve; });
  let fail = false;
  (mem.store as { listDomainNames: (account: string) => Promise<string[]> }).listDomainNames = async () => {
    calls++;
    await gate;
    if (fail) throw new Error('connection lost');
    return ['acme.test'];
  };
  const { http } = submission(mem, 1_000_000, false);
  const plain = () => request({ stream: 'transactional', track: undefined, cc: [], bcc: [] });
  const waiting = Array.from({ length: 10 }, () => http.submit(plain(), ctx));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls, 1, 'one listDomainNames for 10 concurrent requests');
  open();
  assert.equal((await Promise.all(waiting)).length, 10);
  assert.equal(mem.checked.length, 10);
  // Expired (the test's clock is fixed: a new HttpSubmission has an empty cache) and failing.
  const second = submission(mem, 1_000_000, false).http;
  calls = 0;
  fail = true;
  gate = Promise.resolve();
  const failed = await Promise.allSettled([second.submit(plain(), ctx), second.submit(plain(), ctx)]);
  assert.deepEqual(failed.map((r) => r.status === 'rejected' && r.reason instanceof ApiError && r.reason.status), [503, 503]);
  assert.equal(calls, 1, 'the two requests shared the failed lookup');
  fail = false;
  await second.submit(plain(), ctx);
  assert.equal(calls, 2, 'asked again after the failure');
});
