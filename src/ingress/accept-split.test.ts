// A message split into one copy per recipient at SMTP acceptance (accept.ts + recipient-split.ts),
// without sockets: each copy's own id, Received, tracking and List-Unsubscribe tokens, no Bcc, one
// putMany for all, all-or-nothing on a store failure, the size budget over all copies, and no split
// when nothing is per recipient.
import { fixedLinkBase } from '../accounts/link-base.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { BodyWriter, NewMessage, QueueStore } from '../store/store.js';
import { Acceptor, type AcceptDeps } from './accept.js';
import type { Transaction } from './smtp/session.js';
import { fixedSecrets } from '../events/secret-ring.js';
import { readTrackingToken } from '../events/tracking-token.js';
import { readUnsubscribeToken } from '../events/unsubscribe.js';
import type { TrackingSettings } from './tracking-plan.js';
import type { UnsubscribeSettings } from './unsubscribe-fields.js';
import { isSplit, messageWithoutBcc, queuedText, recipientGroups, splitSizeRefusal, withoutBcc } from './recipient-split.js';

const NOW = Date.UTC(2025, 6, 1, 12, 3, 4);
const logger = pino({ level: 'silent' });
const secrets = fixedSecrets(Buffer.alloc(32, 1));
const tracking: TrackingSettings = { secrets, links: fixedLinkBase('https://relay.example'), logger, defaults: { opens: false, clicks: false, streams: ['broadcast'] } };
const unsubscribe: UnsubscribeSettings = { secrets, links: fixedLinkBase('https://relay.example'), bounceLabel: null, logger };

/** Bodies in memory; put() and putMany() recorded; failures on demand. */
function memoryStore(fail: { putMany?: boolean } = {}) {
  const bodies = new Map<string, Buffer[]>();
  const aborted: string[] = [];
  const put: NewMessage[] = [];
  const batches: NewMessage[][] = [];
  const store = {
    createBody(id: string): BodyWriter {
      const parts: Buffer[] = [];
      bodies.set(id, parts);
      return {
        get bytesWritten() { return parts.reduce((n, p) => n + p.length, 0); },
        async write(chunk: Buffer) { parts.push(Buffer.from(chunk)); },
        async finish() { /* durable */ },
        async abort() { aborted.push(id); bodies.delete(id); },
      };
    },
    async put(m: NewMessage) { put.push(m); },
    async putMany(ms: NewMessage[]) { if (fail.putMany) throw new Error('database locked'); batches.push(ms); },
  } as unknown as QueueStore;
  return { store, put, batches, aborted, body: (id: string) => Buffer.concat(bodies.get(id) ?? []).toString('latin1') };
}

const tx = (recipients: string[]): Transaction => ({
  mailFrom: 'alice@example.com', recipients, smtputf8: false, helo: 'client.test',
  esmtp: true, tls: null, user: 'alice', grant: null, submission: true, account: 'default',
});

async function accept(message: string, recipients: string[], deps: Partial<AcceptDeps> = {}, mem = memoryStore()) {
  const queued: string[] = [];
  const acceptor = new Acceptor({ store: mem.store, hostname: 'relay.test', clock: { now: () => NOW }, logger, onQueued: (id) => queued.push(id), tracking, unsubscribe, ...deps });
  const incoming = acceptor.begin({ listener: 'submission', clientIp: '192.0.2.7', transaction: tx(recipients) });
  for (let i = 0; i < message.length; i += 40) await incoming.write(Buffer.from(message.slice(i, i + 40), 'latin1'));
  return { ...mem, outcome: await incoming.finish(), id: incoming.id, queued };
}

const HTML = 'From: a@example.com\r\nTo: bob@dest.example, Carol@dest.example\r\nBcc: dave@dest.example,\r\n  erin@dest.example\r\n'
  + 'Subject: sale\r\nX-Postlane-Stream: broadcast\r\nX-Postlane-Track: opens, clicks\r\nContent-Type: text/html\r\n\r\n'
  + '<html><body><a href="https://shop.example/sale">Shop</a></body></html>\r\n';

test('recipient-split: groups by address in any case, splits only per-recipient mail to several, strips Bcc, budget, reply text', () => {
  assert.deepEqual(recipientGroups(['a@x.example', 'B@x.example', 'A@x.example', 'c@x.example']), [['a@x.example', 'A@x.example'], ['B@x.example'], ['c@x.example']]);
  assert.deepEqual([isSplit(true, ['a@x', 'A@x']), isSplit(true, ['a@x', 'b@x']), isSplit(false, ['a@x', 'b@x'])], [false, true, false]);
  assert.equal(withoutBcc(Buffer.from('To: a\r\nbcc: b,\r\n c\r\nBCC : d\r\nSubject: s\r\n')).toString(), 'To: a\r\nSubject: s\r\n');
  assert.equal(messageWithoutBcc(Buffer.from('To: a\r\nBcc: b\r\n\r\nBcc: in the body\r\n')).toString(), 'To: a\r\n\r\nBcc: in the body\r\n');
  const untouched = Buffer.from('To: a\r\n\r\nx\r\n');
  assert.equal(messageWithoutBcc(untouched), untouched, 'no Bcc: the same buffer');
  assert.equal(splitSizeRefusal(100, 100), null);
  assert.equal(splitSizeRefusal(100, undefined), null);
  assert.deepEqual(splitSizeRefusal(101, 100)?.enhanced, '5.3.4');
  assert.equal(queuedText('ID1', 1), 'Ok: queued as ID1');
  assert.equal(queuedText('ID1', 3), 'Ok: queued as ID1 (+2 more, one per recipient)');
});

test('split: one copy per recipient (Bcc included), each with its own id, Received, tracking and unsubscribe tokens; one putMany', async () => {
  const rcpts = ['bob@dest.example', 'Carol@dest.example', 'carol@dest.example', 'dave@dest.example'];
  const r = await accept(HTML, rcpts);
  assert.equal(r.put.length, 0, 'no single put');
  assert.equal(r.batches.length, 1);
  const copies = r.batches[0]!;
  assert.deepEqual(r.outcome, { queuedAs: r.id, copies: 3 });
  assert.deepEqual(copies.map((c) => c.recipients), [['bob@dest.example'], ['Carol@dest.example', 'carol@dest.example'], ['dave@dest.example']]);
  assert.equal(copies[0]!.id, r.id);
  assert.equal(new Set(copies.map((c) => c.id)).size, 3);
  assert.deepEqual(r.queued, copies.map((c) => c.id));
  for (const c of copies) {
    const body = r.body(c.id);
    assert.equal(c.size, Buffer.byteLength(body, 'latin1'));
    assert.deepEqual(c.meta, { account: 'default', tags: [], metadata: {}, stream: 'broadcast' });
    assert.match(body, new RegExp(`^Received: from client\\.test \\(\\[192\\.0\\.2\\.7\\]\\)\\r\\n\\tby relay\\.test \\(Postlane\\) with ESMTPA id ${c.id};`));
    assert.doesNotMatch(body, /^bcc:|erin@|x-postlane/im, 'no Bcc field, no control field');
    assert.equal(/\r\nMessage-ID: (<\w+@relay\.test>)\r\n/.exec(body)![1]!, `<${c.id}@relay.test>`, 'an added Message-ID names the copy');
    const who = c.recipients[0]!;
    const click = /href="https:\/\/relay\.example\/t\/c\/([^"]+)"/.exec(body)![1]!;
    const open = /src="https:\/\/relay\.example\/t\/o\/([^"]+)\.gif"/.exec(body)![1]!;
    assert.deepEqual(readTrackingToken(secrets, click, 'click'), { kind: 'click', account: 'default', messageId: c.id, recipient: who, url: 'https://shop.example/sale' });
    assert.deepEqual(readTrackingToken(secrets, open, 'open'), { kind: 'open', account: 'default', messageId: c.id, recipient: who });
    const unsub = /\r\nList-Unsubscribe: <https:\/\/relay\.example\/u\/([^>]+)>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n/.exec(body)![1]!;
    assert.deepEqual(readUnsubscribeToken(secrets, unsub), { account: 'default', recipient: who, messageId: c.id, scope: 'broadcast' });
  }
});

test('split for one-click unsubscribe alone (broadcast, no tracking); transactional untracked mail to several stays one message', async () => {
  const plain = 'From: a@example.com\r\nSubject: s\r\n%s\r\nhi\r\n';
  const b = await accept(plain.replace('%s', 'X-Postlane-Stream: broadcast\r\n'), ['a@dest.example', 'b@dest.example']);
  assert.deepEqual(b.batches[0]!.map((c) => [c.recipients, /\/u\/[^>]+>/.test(b.body(c.id))]), [[['a@dest.example'], true], [['b@dest.example'], true]]);
  assert.doesNotMatch(b.body(b.id), /\/t\/[oc]\//);
  const kept = await accept(plain.replace('%s', 'X-Postlane-Stream: broadcast\r\nMessage-ID: <m1@example.com>\r\n'), ['a@dest.example', 'b@dest.example']);
  assert.deepEqual(kept.batches[0]!.map((c) => /\r\nMessage-ID: (.*)\r\n/.exec(kept.body(c.id))![1]), ['<m1@example.com>', '<m1@example.com>'], 'the client\'s Message-ID is kept in every copy');
  const own = await accept(plain.replace('%s', 'X-Postlane-Stream: broadcast\r\nList-Unsubscribe: <mailto:u@example.com>\r\n'), ['a@dest.example', 'b@dest.example']);
  assert.deepEqual([own.batches.length, own.put.map((m) => m.recipients)], [0, [['a@dest.example', 'b@dest.example']]], 'its own List-Unsubscribe: not split');
  const t = await accept(plain.replace('%s', 'Bcc: c@dest.example\r\n'), ['a@dest.example', 'b@dest.example', 'c@dest.example']);
  assert.deepEqual([t.batches.length, t.put.length, t.outcome], [0, 1, { queuedAs: t.id }]);
  assert.match(t.body(t.id), /\r\nBcc: c@dest\.example\r\n/, 'an unsplit message is left as the client wrote it');
});

test('split: a store failure answers 451 and removes every copy; copies over the size limit together answer 552 5.3.4', async () => {
  const failed = await accept(HTML, ['a@dest.example', 'b@dest.example', 'c@dest.example'], {}, memoryStore({ putMany: true }));
  assert.deepEqual((failed.outcome as { reply: { code: number } }).reply.code, 451);
  assert.equal(failed.aborted.length, 3);
  assert.ok(failed.aborted.includes(failed.id));
  assert.deepEqual(failed.queued, []);
  // One copy fits in the limit; three do not (the estimate refuses before any copy is written).
  const big = await accept(HTML, ['a@dest.example', 'b@dest.example', 'c@dest.example'], { maxMessageBytes: Buffer.byteLength(HTML) });
  assert.deepEqual((big.outcome as { reply: { code: number; enhanced: string } }).reply, { code: 552, enhanced: '5.3.4', text: 'Message too big to send one copy per recipient; send fewer recipients per message' });
  assert.deepEqual([big.batches, big.put, big.aborted], [[], [], [big.id]]);
  // The estimate passes but the rewritten copies (longer links, a pixel) do not.
  const padded = HTML + 'more words\r\n'.repeat(300);
  const rewritten = await accept(padded, ['a@dest.example', 'b@dest.example'], { maxMessageBytes: Buffer.byteLength(padded) * 2 });
  assert.equal((rewritten.outcome as { reply: { code: number } }).reply.code, 552);
  assert.equal(rewritten.batches.length, 0);
  assert.equal(rewritten.aborted.length, 2, 'the copies written so far are removed');
});
