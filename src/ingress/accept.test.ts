import { fixedLinkBase } from '../accounts/link-base.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { BodyWriter, NewMessage, QueueStore } from '../store/store.js';
import { Acceptor, MAX_HEADER_BYTES, receivedHeader, rfc5322Date } from './accept.js';
import type { Transaction } from './smtp/session.js';
import { fixedSecrets } from '../events/secret-ring.js';
import { readTrackingToken } from '../events/tracking-token.js';
import type { TrackingSettings } from './tracking-plan.js';

const NOW = Date.UTC(2025, 6, 1, 12, 3, 4);
const logger = pino({ level: 'silent' });

/** Just enough of a QueueStore: bodies in memory, put() recorded, failures on demand. */
function memoryStore(fail: { write?: boolean; put?: boolean } = {}) {
  const bodies = new Map<string, Buffer[]>();
  const aborted: string[] = [];
  const put: NewMessage[] = [];
  const store = {
    createBody(id: string): BodyWriter {
      const parts: Buffer[] = [];
      bodies.set(id, parts);
      return {
        get bytesWritten() { return parts.reduce((n, p) => n + p.length, 0); },
        async write(chunk: Buffer) { if (fail.write) throw new Error('disk full'); parts.push(Buffer.from(chunk)); },
        async finish() { /* durable */ },
        async abort() { aborted.push(id); bodies.delete(id); },
      };
    },
    async put(m: NewMessage) { if (fail.put) throw new Error('database locked'); put.push(m); },
  } as unknown as QueueStore;
  return { store, put, aborted, body: (id: string) => Buffer.concat(bodies.get(id) ?? []).toString('latin1') };
}

const tx = (over: Partial<Transaction> = {}): Transaction => ({
  mailFrom: 'alice@example.com', recipients: ['bob@dest.example'], smtputf8: false, helo: 'client.test',
  esmtp: true, tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' }, user: 'alice', grant: null, submission: true, ...over,
});

async function accept(chunks: string[], over: Partial<Transaction> = {}, listener: 'submission' | 'mx' = 'submission', mem = memoryStore()) {
  const queued: string[] = [];
  const acceptor = new Acceptor({ store: mem.store, hostname: 'relay.test', clock: { now: () => NOW }, logger, onQueued: (id) => queued.push(id) });
  const incoming = acceptor.begin({ listener, clientIp: '192.0.2.7', transaction: tx(over) });
  for (const c of chunks) await incoming.write(Buffer.from(c, 'latin1'));
  const outcome = await incoming.finish();
  return { ...mem, outcome, id: incoming.id, queued };
}

test('rfc5322Date', () => {
  assert.equal(rfc5322Date(new Date(NOW)), 'Tue, 01 Jul 2025 12:03:04 +0000');
});

test('Received header: folded, TLS comment, no user name, IPv6 literal', () => {
  const h = receivedHeader({ helo: 'c.test', ip: '::ffff:192.0.2.1', hostname: 'relay.test', protocol: 'ESMTPSA', id: 'ID1', date: new Date(NOW), tls: { protocol: 'TLSv1.3', cipher: 'C' } });
  assert.equal(h, 'Received: from c.test ([192.0.2.1])\r\n\tby relay.test (Postlane) with ESMTPSA id ID1\r\n\t(using TLSv1.3 with cipher C);\r\n\tTue, 01 Jul 2025 12:03:04 +0000\r\n');
  assert.match(receivedHeader({ helo: 'c', ip: '2001:db8::1', hostname: 'r', protocol: 'ESMTP', id: 'X', date: new Date(NOW), tls: null }), /^Received: from c \(\[IPv6:2001:db8::1\]\)\r\n\tby r/);
});

test('submission: Received first, Message-ID and Date added when missing, headers split across chunks', async () => {
  const r = await accept(['From: a@example.com\r\nSubject: hi\r\n', '\r\n', 'body\r\n']);
  assert.deepEqual(r.outcome, { queuedAs: r.id });
  assert.deepEqual(r.queued, [r.id]);
  assert.equal(r.body(r.id), receivedHeader({ helo: 'client.test', ip: '192.0.2.7', hostname: 'relay.test', protocol: 'ESMTPSA', id: r.id, date: new Date(NOW), tls: tx().tls }) +
    `From: a@example.com\r\nSubject: hi\r\nMessage-ID: <${r.id}@relay.test>\r\nDate: Tue, 01 Jul 2025 12:03:04 +0000\r\n\r\nbody\r\n`);
  assert.deepEqual(r.put, [{
    id: r.id, mailFrom: 'alice@example.com', recipients: ['bob@dest.example'], size: Buffer.byteLength(r.body(r.id)), receivedAt: NOW,
    isBounce: false, route: 'relay', origin: { listener: 'submission', clientIp: '192.0.2.7', user: 'alice', helo: 'client.test' }, subject: 'hi',
  }]);
});

test('existing Message-ID and Date are kept (any case); a CRLF CRLF straddling chunks is found', async () => {
  const r = await accept(['message-ID: <x@y>\r\nDATE: Mon, 1 Jan 2024 00:00:00 +0000\r', '\n\r\nb\r\n']);
  assert.match(r.body(r.id), /\r\nmessage-ID: <x@y>\r\nDATE: Mon, 1 Jan 2024 00:00:00 \+0000\r\n\r\nb\r\n$/);
  assert.equal(r.body(r.id).match(/Message-ID/gi)?.length, 1);
  const split = await accept(['A: 1\r\n', '\r\n', 'x\r\n']);
  assert.match(split.body(split.id), /A: 1\r\nMessage-ID: .*\r\nDate: .*\r\n\r\nx\r\n$/);
});

test('a header that only contains "date" in another name does not count', async () => {
  const r = await accept(['X-Date: 1\r\nResent-Message-ID: <a@b>\r\n\r\n']);
  assert.match(r.body(r.id), /\r\nMessage-ID: <.*@relay\.test>\r\nDate: /);
});

test('mx: only Received is added; route local; no headers at all; empty message', async () => {
  const r = await accept(['\r\njust a body\r\n'], { user: null, tls: null, submission: false }, 'mx');
  assert.equal(r.body(r.id), `Received: from client.test ([192.0.2.7])\r\n\tby relay.test (Postlane) with ESMTP id ${r.id};\r\n\tTue, 01 Jul 2025 12:03:04 +0000\r\n\r\njust a body\r\n`);
  assert.equal(r.put[0]!.route, 'local');
  const empty = await accept([], { user: null, tls: null, esmtp: false, submission: false }, 'mx');
  assert.match(empty.body(empty.id), /^Received: from client\.test \(\[192\.0\.2\.7\]\)\r\n\tby relay\.test \(Postlane\) with SMTP id \w+;\r\n\t.*\r\n$/);
});

test('the "with" protocol: UTF8SMTPSA for SMTPUTF8 transactions (RFC 6531), ESMTPS without AUTH', async () => {
  const u = await accept(['A: b\r\n\r\n'], { smtputf8: true });
  assert.match(u.body(u.id), /\tby relay\.test \(Postlane\) with UTF8SMTPSA id \w+\r\n\t\(using /);
  const s = await accept(['A: b\r\n\r\n'], { user: null, submission: false }, 'mx');
  assert.match(s.body(s.id), /\tby relay\.test \(Postlane\) with ESMTPS id /);
});

test('a submission from relayNetworks (no AUTH) gets Message-ID and Date, and "with ESMTP"', async () => {
  const r = await accept(['Subject: app\r\n\r\nx\r\n'], { user: null, tls: null, submission: true });
  assert.match(r.body(r.id), /with ESMTP id \w+;\r\n\t.*\r\nSubject: app\r\nMessage-ID: <\w+@relay\.test>\r\nDate: .*\r\n\r\nx\r\n$/);
  assert.deepEqual(r.put[0]!.origin, { listener: 'submission', clientIp: '192.0.2.7', user: null, helo: 'client.test' });
});

test('a message with headers only gets the additions at its end', async () => {
  const r = await accept(['Subject: only\r\n']);
  assert.match(r.body(r.id), /\r\nSubject: only\r\nMessage-ID: <\w+@relay\.test>\r\nDate: .*\r\n$/);
});

test('a header block over the cap is refused and nothing is stored', async () => {
  const line = 'X-Pad: ' + 'p'.repeat(990) + '\r\n';
  const chunks = Array.from({ length: Math.ceil(MAX_HEADER_BYTES / line.length) + 1 }, () => line);
  const r = await accept([...chunks, '\r\nbody\r\n']);
  assert.deepEqual(r.outcome, { reply: { code: 554, enhanced: '5.6.0', text: 'Header block too large' } });
  assert.deepEqual(r.put, []);
});

test('reject() refuses the message; nothing is put', async () => {
  const mem = memoryStore();
  const acceptor = new Acceptor({ store: mem.store, hostname: 'relay.test', clock: { now: () => NOW }, logger });
  const incoming = acceptor.begin({ listener: 'submission', clientIp: '192.0.2.7', transaction: tx() });
  await incoming.write(Buffer.from('A: b\r\n\r\nbody\r\n'));
  incoming.reject({ code: 552, enhanced: '5.3.4', text: 'Message too big' });
  assert.deepEqual(await incoming.finish(), { reply: { code: 552, enhanced: '5.3.4', text: 'Message too big' } });
  assert.deepEqual(mem.put, []);
  assert.deepEqual(mem.aborted, [incoming.id]);
});

test('write or put failures give 451 4.3.0 and abort the body', async () => {
  const w = await accept(['A: b\r\n\r\nbody\r\n'], {}, 'submission', memoryStore({ write: true }));
  assert.deepEqual(w.outcome, { reply: { code: 451, enhanced: '4.3.0', text: 'Temporary local problem, try again later' } });
  assert.deepEqual(w.aborted, [w.id]);
  const p = await accept(['A: b\r\n\r\nbody\r\n'], {}, 'submission', memoryStore({ put: true }));
  assert.deepEqual(p.outcome, { reply: { code: 451, enhanced: '4.3.0', text: 'Temporary local problem, try again later' } });
  assert.deepEqual([p.aborted, p.queued], [[p.id], []]);
});

const tracking: TrackingSettings = {
  secrets: fixedSecrets(Buffer.alloc(32, 1)), links: fixedLinkBase('https://relay.example'), logger, defaults: { opens: false, clicks: false, streams: ['broadcast'] },
};
function trackingAcceptor(mem = memoryStore()) {
  return { mem, acceptor: new Acceptor({ store: mem.store, hostname: 'relay.test', clock: { now: () => NOW }, logger, tracking }) };
}

test('X-Postlane-Track: the message is held to the end of DATA, rewritten, then stored; the field never leaves', async () => {
  const { mem, acceptor } = trackingAcceptor();
  const incoming = acceptor.begin({ listener: 'submission', clientIp: '192.0.2.7', transaction: tx({ account: 'acme' }) });
  for (const c of ['From: a@example.com\r\nX-Postlane-Track: opens,\r\n clicks\r\nContent-Type: text/html\r\n', '\r\n<body><a href="http://a.example/">x', '</a></body>\r\n']) {
    await incoming.write(Buffer.from(c));
  }
  assert.equal(mem.body(incoming.id), '', 'nothing written before the end of DATA');
  assert.deepEqual(await incoming.finish(), { queuedAs: incoming.id });
  const body = mem.body(incoming.id);
  assert.doesNotMatch(body, /x-postlane-track/i);
  const click = /<a href="https:\/\/relay\.example\/t\/c\/([^"]+)">x<\/a><img src="https:\/\/relay\.example\/t\/o\/[^"]+\.gif"[^>]*><\/body>\r\n$/.exec(body);
  assert.ok(click, body);
  assert.deepEqual(readTrackingToken(tracking.secrets, click[1]!, 'click'),
    { kind: 'click', account: 'acme', messageId: incoming.id, recipient: 'bob@dest.example', url: 'http://a.example/' });
  assert.equal(mem.put[0]!.size, Buffer.byteLength(body));
});

test('tracking: "none" (one or several recipients), or a refused message: nothing rewritten, nothing stored when refused', async () => {
  const message = 'From: a@example.com\r\nX-Postlane-Track: %s\r\nContent-Type: text/html\r\n\r\n<a href="http://a.example/">x</a>\r\n';
  const cases: [string, Partial<Transaction>][] = [['none', {}], ['none', { recipients: ['bob@dest.example', 'carol@dest.example'] }]];
  for (const [value, over] of cases) {
    const { mem, acceptor } = trackingAcceptor();
    const incoming = acceptor.begin({ listener: 'submission', clientIp: '192.0.2.7', transaction: tx(over) });
    await incoming.write(Buffer.from(message.replace('%s', value)));
    assert.deepEqual(await incoming.finish(), { queuedAs: incoming.id });
    assert.match(mem.body(incoming.id), /\r\nFrom: a@example\.com\r\nContent-Type: text\/html\r\nMessage-ID: .*\r\nDate: .*\r\n\r\n<a href="http:\/\/a\.example\/">x<\/a>\r\n$/, value);
  }
  const { mem, acceptor } = trackingAcceptor();
  const incoming = acceptor.begin({ listener: 'submission', clientIp: '192.0.2.7', transaction: tx() });
  await incoming.write(Buffer.from(message.replace('%s', 'clicks')));
  incoming.reject({ code: 552, enhanced: '5.3.4', text: 'Message too big' });
  assert.equal((await incoming.finish() as { reply: { code: number } }).reply.code, 552);
  assert.deepEqual([mem.put, mem.aborted], [[], [incoming.id]]);
});

test('signing: a signer that knows now that no key applies (unsignedNow) gets no tee and is not asked to sign; otherwise it signs the stream', async () => {
  const calls: string[] = [];
  const signer = (known: boolean) => ({
    unsignedNow: (d: string | null) => { calls.push(`now:${d}`); return known ? { headers: '', domain: null, aligned: false } : null; },
    sign: async (m: NodeJS.ReadableStream, d: string | null) => {
      calls.push(`sign:${d}`);
      const parts: Buffer[] = [];
      for await (const c of m) parts.push(c as Buffer);
      return { headers: `DKIM-Signature: len=${Buffer.concat(parts).length}\r\n`, domain: 'example.com', aligned: true };
    },
  });
  for (const known of [true, false]) {
    calls.length = 0;
    const mem = memoryStore();
    const acceptor = new Acceptor({ store: mem.store, hostname: 'relay.test', clock: { now: () => NOW }, logger, signer: signer(known) as never });
    const incoming = acceptor.begin({ listener: 'submission', clientIp: '192.0.2.7', transaction: tx() });
    await incoming.write(Buffer.from('From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n'));
    assert.deepEqual(await incoming.finish(), { queuedAs: incoming.id });
    assert.deepEqual(calls, known ? ['now:example.com'] : ['now:example.com', 'sign:example.com']);
    const prefix = mem.put[0]!.headerPrefix;
    assert.equal(prefix, known ? undefined : `DKIM-Signature: len=${mem.body(incoming.id).length}\r\n`);
  }
});
