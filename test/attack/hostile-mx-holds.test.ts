// Attack (twenty-ninth session, a hostile recipient domain): what a hostile MX server tries that
// already holds, over real sockets, each ending in a bounded time with its classification and the
// session not reused: a reply line of megabytes and an endless fast "250-" reply (nodemailer's
// 1 MiB reply limit), a server that never greets (connectTimeout), a STARTTLS handshake that never
// completes (the upgrade deadline, then the plaintext fallback), plaintext injected after the 220
// to STARTTLS (discarded, RFC 3207 §6), 250 instead of 354 to DATA, replies nobody asked for on an
// idle session, an absurd SIZE, and a pipelined group answered with one reply too many.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { SmtpAttempt, type AttemptMessage, type HostAttempt } from '../../src/delivery/attempt.js';
import { ConnectionPool, type SessionTarget } from '../../src/delivery/connection-pool.js';
import type { TlsLevel } from '../../src/delivery/tls-policy.js';
import { greetAndEhlo, startHostileMx, type HostileMx, type HostileSession } from './hostile-mx.js';

const BODY = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
const store = { readMessage: async () => Buffer.from(BODY), readBody: () => Readable.from([BODY]) };
const config = loadConfig({ env: {}, overrides: { hostname: 'relay.test', 'delivery.connectTimeout': '1s', 'delivery.commandTimeout': '1s', 'delivery.idleConnectionTimeout': '5s' } });
const message: AttemptMessage = { messageId: 'M1', mailFrom: 'a@sender.test', size: BODY.length, recipients: ['b@hostile.test'] };
const target = (mx: HostileMx, level: TlsLevel = 'none'): SessionTarget => ({
  host: 'mx.hostile.test', address: mx.host, port: mx.port, auth: null,
  security: { level, source: level === 'opportunistic' ? 'opportunistic' : 'policy', names: ['mx.hostile.test'], tlsa: [] },
});

/** Answers a transaction normally after EHLO: MAIL, RCPT, DATA, the end of data (`done` its reply). */
async function transaction(s: HostileSession, done = '250 2.0.0 queued as REAL'): Promise<void> {
  for (let l = await s.line(); l !== null; l = await s.line()) {
    if (l.startsWith('MAIL')) s.write('250 2.1.0 mail ok\r\n');
    else if (l.startsWith('RCPT')) s.write('250 2.1.5 rcpt ok\r\n');
    else if (l === 'DATA') s.write('354 go\r\n');
    else if (l === '.') s.write(`${done}\r\n`);
    else if (l === 'RSET') s.write('250 reset\r\n');
    else if (l === 'QUIT') { s.write('221 bye\r\n'); s.socket.end(); return; }
  }
}

async function run(mx: HostileMx, level: TlsLevel = 'none'): Promise<{ a: HostAttempt; took: number; pool: ConnectionPool }> {
  const pool = new ConnectionPool({ config });
  const started = Date.now();
  const a = await new SmtpAttempt({ pool, store }).run(message, target(mx, level));
  return { a, took: Date.now() - started, pool };
}

describe('attack: a hostile MX server (what holds)', () => {
  const servers: Record<string, HostileMx> = {};
  const mx = (name: string) => servers[name]!;

  before(async () => {
    const add = async (name: string, host: string, script: (s: HostileSession) => Promise<void>) => { servers[name] = await startHostileMx(host, script); };
    await add('megaline', '127.0.72.21', async (s) => {
      s.write('220 hostile.test ESMTP\r\n');
      if (await s.line() === null) return;
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      for (let i = 0; i < 64 && !s.socket.destroyed; i++) s.write(chunk); // 4 MiB, no line end
    });
    await add('flood', '127.0.72.22', async (s) => {
      s.write('220 hostile.test ESMTP\r\n');
      if (await s.line() === null) return;
      const chunk = Buffer.from('250-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n'.repeat(1000));
      for (let i = 0; i < 100 && !s.socket.destroyed; i++) s.write(chunk); // ~5.7 MB of "250-"
    });
    await add('mute', '127.0.72.23', async () => undefined);
    await add('tlsstall', '127.0.72.24', async (s) => {
      if (!await greetAndEhlo(s, ['STARTTLS', '8BITMIME'])) return;
      for (let l = await s.line(); l !== null; l = await s.line()) {
        if (l === 'STARTTLS') s.write('220 go ahead\r\n'); // and never a ServerHello
        else if (l.startsWith('MAIL')) s.write('451 4.3.0 try later\r\n');
      }
    });
    await add('inject', '127.0.72.25', async (s) => {
      if (!await greetAndEhlo(s, ['STARTTLS', '8BITMIME'])) return;
      if (await s.line() !== 'STARTTLS') return;
      s.write('220 go ahead\r\n250-INJECTED\r\n250 AUTH PLAIN\r\n'); // plaintext after the 220, in the same segment
      await s.upgrade();
      if (await s.line() === null) return; // EHLO over TLS
      s.write('250-hostile.test\r\n250 8BITMIME\r\n');
      await transaction(s);
    });
    await add('data250', '127.0.72.26', async (s) => {
      if (!await greetAndEhlo(s, ['8BITMIME'])) return;
      for (let l = await s.line(); l !== null; l = await s.line()) {
        if (l.startsWith('MAIL') || l.startsWith('RCPT')) s.write('250 ok\r\n');
        else if (l === 'DATA') s.write('250 ok\r\n'); // not 354; and then nothing
      }
    });
    await add('chatty', '127.0.72.27', async (s) => {
      if (!await greetAndEhlo(s, ['8BITMIME'])) return;
      await transaction(s, '250 2.0.0 queued as REAL\r\n250 and one more\r\n221 and a goodbye');
    });
    await add('size', '127.0.72.28', async (s) => {
      if (!await greetAndEhlo(s, ['SIZE 1', '8BITMIME'])) return;
      await transaction(s);
    });
    await add('desync', '127.0.72.29', async (s) => {
      if (!await greetAndEhlo(s, ['PIPELINING', 'SIZE 99999999999999999999999', '8BITMIME'])) return;
      for (let l = await s.line(); l !== null; l = await s.line()) {
        if (l.startsWith('MAIL')) s.write('250 mail ok\r\n250 surplus\r\n'); // one reply too many
        else if (l.startsWith('RCPT')) s.write('250 rcpt ok\r\n');
        else if (l === 'DATA') s.write('354 go\r\n');
        else if (l === '.') s.write('250 queued\r\n');
      }
    });
  });
  after(async () => { await Promise.all(Object.values(servers).map((s) => s.close())); });

  it('a reply line of megabytes, or megabytes of "250-": dropped at 1 MiB, a temporary failure, at once', async () => {
    for (const name of ['megaline', 'flood']) {
      const before = process.memoryUsage().heapUsed;
      const { a, took, pool } = await run(mx(name));
      assert.equal(a.hostFailure?.kind, 'temporary', name);
      assert.ok(took < 1000, `${name}: ${took} ms`);
      assert.ok(process.memoryUsage().heapUsed - before < 64 * 1024 * 1024, `${name}: heap grew by ${process.memoryUsage().heapUsed - before}`);
      await pool.drain(2000);
    }
  });

  it('a server that never greets: connectTimeout, temporary', async () => {
    const { a, took } = await run(mx('mute'));
    assert.deepEqual([a.hostFailure?.kind, a.hostFailure?.status], ['temporary', '4.4.2']);
    assert.ok(took >= 900 && took < 2500, `${took} ms`);
  });

  it('a STARTTLS handshake that never completes: cut at connectTimeout, then the plaintext fallback is tried', async () => {
    const { a, took } = await run(mx('tlsstall'), 'opportunistic');
    assert.equal(a.hostFailure?.kind, 'temporary');
    assert.match(a.hostFailure?.reply ?? '', /^451 4\.3\.0 try later/, 'the plaintext session reached MAIL');
    assert.ok(took >= 900 && took < 3000, `${took} ms`);
    assert.equal(mx('tlsstall').connections, 2);
  });

  it('plaintext injected after the 220 to STARTTLS is discarded: the TLS session answers the EHLO', async () => {
    const { a, pool } = await run(mx('inject'), 'opportunistic');
    assert.equal(a.hostFailure, null);
    assert.equal(a.recipients[0]!.outcome, 'delivered');
    assert.equal((a.recipients[0] as { response: string }).response, '250 2.0.0 queued as REAL');
    assert.equal(a.tls?.version?.startsWith('TLSv1.'), true);
    pool.closeAll();
  });

  it('250 instead of 354 to DATA, then silence: commandTimeout, temporary', async () => {
    const { a, took } = await run(mx('data250'));
    assert.equal(a.hostFailure?.kind, 'temporary');
    assert.ok(took < 3000, `${took} ms`);
  });

  it('replies nobody asked for after the end of data: the message is delivered, the session is not reused', async () => {
    const { a, pool } = await run(mx('chatty'));
    assert.equal(a.recipients[0]!.outcome, 'delivered');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(pool.idleCount, 0, 'the desynchronised session was closed');
    pool.closeAll();
  });

  it('SIZE smaller than the message: the server\'s own word, a permanent 5.3.4 without sending it', async () => {
    const { a, pool } = await run(mx('size'));
    assert.deepEqual([a.recipients[0]?.outcome, (a.recipients[0] as { verdict?: { status: string } }).verdict?.status], ['failed', '5.3.4']);
    pool.closeAll();
  });

  it('an absurd SIZE and a pipelined group answered with one reply too many: ends at once, no crash', async () => {
    const { a, took, pool } = await run(mx('desync'));
    assert.ok(took < 3000, `${took} ms`);
    assert.ok(a.hostFailure !== null || a.recipients.length === 1);
    pool.closeAll();
    await pool.drain(2000);
  });
});
