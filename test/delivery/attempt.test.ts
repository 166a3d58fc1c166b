// SmtpAttempt + ConnectionPool against real receivers: per-recipient results, session reuse with
// RSET, a broken cached session retried on a fresh one, TLS policies and the plaintext fallback.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { SmtpAttempt, type AttemptMessage } from '../../src/delivery/attempt.js';
import { ConnectionPool, type SessionTarget } from '../../src/delivery/connection-pool.js';
import type { TlsLevel } from '../../src/delivery/tls-policy.js';
import { startReceiver, type Receiver, type SmtpReply } from '../helpers/smtp-receiver.js';

const BODY = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
const store = { readMessage: async () => Buffer.from(BODY), readBody: () => Readable.from([BODY]) };
const config = loadConfig({ env: {}, overrides: { hostname: 'relay.test', 'delivery.connectTimeout': '3s', 'delivery.commandTimeout': '5s', 'delivery.idleConnectionTimeout': '5s' } });

const message = (recipients: string[]): AttemptMessage => ({ messageId: 'M1', mailFrom: 'a@sender.test', size: BODY.length, recipients });
const target = (r: Receiver, level: TlsLevel = 'opportunistic'): SessionTarget => ({
  host: 'mx.example.test', address: r.host, port: r.port, auth: null,
  security: { level, source: level === 'opportunistic' ? 'opportunistic' : 'policy', names: ['mx.example.test'], tlsa: [] },
});

describe('SmtpAttempt', () => {
  let ok: Receiver;
  let picky: Receiver;
  let plain: Receiver;
  let oldTls: Receiver;
  let rcpt: (addr: string) => SmtpReply | null = () => null;
  let data: () => SmtpReply | null = () => null;

  before(async () => {
    ok = await startReceiver({ host: '127.0.0.2' });
    picky = await startReceiver({ host: '127.0.0.3', behaviour: { rcpt: (a) => rcpt(a), data: () => data() } });
    plain = await startReceiver({ host: '127.0.0.4', tls: false });
    // A server whose TLS the client refuses (TLS 1.0 only): the STARTTLS handshake fails.
    oldTls = await startReceiver({ host: '127.0.0.5', tlsOptions: { minVersion: 'TLSv1', maxVersion: 'TLSv1' } });
  });
  after(async () => { await Promise.all([ok, picky, plain, oldTls].map((r) => r.close())); });

  const fresh = () => { const pool = new ConnectionPool({ config }); return { pool, attempt: new SmtpAttempt({ pool, store }) }; };

  it('delivers and reports TLS facts; reuses the session with RSET for the next message', async () => {
    const { pool, attempt } = fresh();
    const before = ok.sessions;
    const a = await attempt.run(message(['x@example.test']), target(ok));
    const b = await attempt.run(message(['y@example.test']), target(ok));
    for (const r of [a, b]) {
      assert.equal(r.hostFailure, null);
      assert.equal(r.recipients[0]!.outcome, 'delivered');
    }
    assert.match(a.tls?.version ?? '', /^TLSv1\.[23]$/);
    assert.ok(a.tls?.cipher);
    // The receiver's certificate is self-signed: used (opportunistic), recorded as not verified.
    assert.deepEqual([a.tls?.verified, a.tls?.policy, a.tls?.level], [false, 'opportunistic', 'opportunistic']);
    assert.match(a.tls?.error ?? '', /not trusted/);
    assert.equal(ok.sessions - before, 1);
    assert.ok(ok.messages.slice(-2).every((m) => m.body.equals(BODY) && m.tls));
    pool.closeAll();
  });

  it('streams a message over 256 KiB (readBody) and reads a smaller one whole (readMessage)', async () => {
    const large = Buffer.concat([Buffer.from('Subject: large\r\n\r\n'), Buffer.from('line of text\r\n'.repeat(20_000))]);
    const reads: string[] = [];
    const both = {
      readMessage: async () => { reads.push('whole'); return Buffer.from(BODY); },
      readBody: () => { reads.push('stream'); return Readable.from([large.subarray(0, 10_000), large.subarray(10_000)]); },
    };
    const pool = new ConnectionPool({ config });
    const attempt = new SmtpAttempt({ pool, store: both });
    const a = await attempt.run({ ...message(['x@example.test']), size: large.length }, target(ok));
    const b = await attempt.run(message(['y@example.test']), target(ok));
    pool.closeAll();
    assert.deepEqual([a.recipients[0]!.outcome, b.recipients[0]!.outcome], ['delivered', 'delivered']);
    assert.deepEqual(reads, ['stream', 'whole']);
    assert.ok(ok.messages.at(-2)!.body.equals(large));
    assert.ok(ok.messages.at(-1)!.body.equals(BODY));
  });

  it('retries once on a fresh session when the cached one turns out to be broken', async () => {
    const { pool, attempt } = fresh();
    const before = ok.sessions;
    await attempt.run(message(['x@example.test']), target(ok));
    const cached = pool.take(target(ok))!;
    assert.ok(cached, 'the session was cached');
    (cached.conn._socket as import('node:net').Socket).end(); // our side half-closed: RSET cannot be sent
    pool.release(cached, true);
    const r = await attempt.run(message(['z@example.test']), target(ok));
    assert.equal(r.hostFailure, null);
    assert.equal(r.recipients[0]!.outcome, 'delivered');
    assert.equal(ok.sessions - before, 2);
    pool.closeAll();
  });

  it('reports per-recipient results: RCPT refusals keep their own reply, others get the DATA reply', async () => {
    const { pool, attempt } = fresh();
    rcpt = (a) => (a.startsWith('gone') ? { code: 550, message: '5.1.1 No such user' } : null);
    data = () => ({ code: 451, message: '4.3.0 Try again later' });
    const r = await attempt.run(message(['gone@example.test', 'here@example.test']), target(picky));
    assert.equal(r.hostFailure, null);
    assert.deepEqual(r.recipients.map((x) => [x.address, x.outcome === 'failed' ? [x.verdict.kind, x.verdict.status] : x.outcome]), [
      ['gone@example.test', ['permanent', '5.1.1']],
      ['here@example.test', ['temporary', '4.3.0']],
    ]);
    data = () => null;
    const s = await attempt.run(message(['gone@example.test', 'here@example.test']), target(picky));
    assert.deepEqual(s.recipients.map((x) => x.outcome), ['failed', 'delivered']);
    rcpt = () => ({ code: 452, message: '4.2.2 Over quota' });
    const t = await attempt.run(message(['a@example.test']), target(picky));
    assert.equal(t.hostFailure, null);
    assert.deepEqual(t.recipients.map((x) => x.outcome === 'failed' && x.verdict.kind), ['temporary']);
    rcpt = () => null;
    pool.closeAll();
  });

  it("fails the host (temporary) under 'required' TLS when STARTTLS is not offered, sending nothing", async () => {
    const { pool, attempt } = fresh();
    const r = await attempt.run(message(['x@example.test']), target(plain, 'required'));
    assert.equal(r.hostFailure?.kind, 'temporary');
    assert.equal(r.hostFailure?.status, '4.7.5');
    assert.equal(plain.messages.length, 0);
    const clear = await attempt.run(message(['x@example.test']), target(plain, 'opportunistic'));
    assert.equal(clear.recipients[0]!.outcome, 'delivered');
    assert.equal(clear.tls?.version, null);
    assert.equal(clear.tls?.verified, false);
    assert.equal(plain.messages[0]!.tls, false);
    pool.closeAll();
  });

  it('falls back to plaintext when an opportunistic STARTTLS handshake fails, never when TLS is required', async () => {
    const { pool, attempt } = fresh();
    const r = await attempt.run(message(['x@example.test']), target(oldTls, 'opportunistic'));
    assert.equal(r.hostFailure, null);
    assert.equal(r.recipients[0]!.outcome, 'delivered');
    assert.equal(oldTls.messages[0]!.tls, false);
    const req = await attempt.run(message(['x@example.test']), target(oldTls, 'required'));
    assert.equal(req.hostFailure?.status, '4.7.5');
    assert.equal(oldTls.messages.length, 1);
    pool.closeAll();
  });

  it('keeps and counts sessions per destination: another address of a destination retires its idle session first', async () => {
    const closed: string[] = [];
    const pool = new ConnectionPool({ config, onSessionClosed: (d) => closed.push(d) });
    const attempt = new SmtpAttempt({ pool, store });
    const to = (destination: string) => ({ ...message([`x@${destination}`]), destination });
    assert.equal((await attempt.run(to('d.test'), target(ok))).hostFailure, null);
    assert.equal((await attempt.run(to('e.test'), target(ok))).hostFailure, null);
    assert.equal(pool.idleCount, 2, 'same address, two destinations: two sessions');
    assert.equal(pool.unusedSessions('d.test'), 1);
    assert.equal((await attempt.run(to('d.test'), target(plain))).hostFailure, null);
    assert.deepEqual(closed, ['d.test'], "d.test's idle session to the other address was closed (socket and all) before the new one");
    assert.equal(pool.idleCount, 2);
    assert.equal(pool.unusedSessions('d.test'), 1);
    assert.equal(pool.take(target(ok), 'd.test'), null);
    const s = pool.take(target(plain), 'd.test');
    assert.ok(s);
    assert.equal(pool.unusedSessions('d.test'), 0, 'taken: busy');
    pool.discard(s);
    pool.closeAll();
    await pool.drain(3000);
    assert.deepEqual([pool.unusedSessions('d.test'), pool.unusedSessions('e.test')], [0, 0]);
    assert.deepEqual(closed.sort(), ['d.test', 'd.test', 'e.test']);
  });

  it('fails the host when nothing listens', async () => {
    const { pool, attempt } = fresh();
    const down = await startReceiver({ host: '127.0.0.6', behaviour: { refuse: true } });
    const r = await attempt.run(message(['x@example.test']), target(down));
    assert.equal(r.hostFailure?.kind, 'temporary');
    assert.equal(r.hostFailure?.status, '4.4.1');
    pool.closeAll();
  });
});
