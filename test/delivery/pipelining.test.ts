// Outbound PIPELINING (RFC 2920) over real sockets: SmtpAttempt + ConnectionPool against a scripted
// MX that records, for every command line, how many of its replies the client could have read
// when the line arrived. With PIPELINING offered, MAIL FROM, every RCPT TO and DATA must reach the
// server before it has answered MAIL (the MX holds its replies until DATA comes, so a client that
// waited would show it); without it, each command follows the reply to the one before. The reply
// to each RCPT decides only its recipient, and a DATA refused after every RCPT was (RFC 2920 §3.1)
// is not followed by the body; a DATA accepted anyway gets a lone "." (no body, nobody to go to).
// The body and its final "." leave in one write (the socket is corked for that turn).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import net from 'node:net';
import { loadConfig } from '../../src/config/load.js';
import { SmtpAttempt, type AttemptMessage } from '../../src/delivery/attempt.js';
import { ConnectionPool, type SessionTarget } from '../../src/delivery/connection-pool.js';

const BODY = Buffer.from('Subject: hi\r\n\r\nbody line\r\n.starts with a dot\r\n');
const STUFFED = Buffer.from('Subject: hi\r\n\r\nbody line\r\n..starts with a dot\r\n');
const store = { readMessage: async () => Buffer.from(BODY), readBody: () => Readable.from([BODY]) };
const config = loadConfig({ env: {}, overrides: { hostname: 'relay.test', 'delivery.connectTimeout': '3s', 'delivery.commandTimeout': '5s', 'delivery.idleConnectionTimeout': '5s' } });

/** A command line as the MX read it, and how many replies of the transaction it had written before the read that carried it. */
interface Seen { line: string; repliesBefore: number }
interface Transaction { commands: Seen[]; body: Buffer | null }
/** lines: every command line of the session, each with how many replies the session had written before the read that carried it. */
interface MxSession { transactions: Transaction[]; lines: Seen[] }

interface Script {
  pipelining: boolean;
  /** Answer to RSET (default 250). */
  rset?: () => string;
  /** Answer to MAIL (default 250). */
  mail?: () => string;
  /** Answer to one RCPT (default 250). */
  rcpt?: (address: string) => string;
  /** Answer to DATA given the accepted recipients (default: 354 when there is one, else 554 as RFC 2920 servers do). */
  data?: (accepted: number) => string;
}

interface ScriptedMx { host: string; port: number; sessions: MxSession[]; script: Script; close(): Promise<void> }

/** How long the pipelining MX holds its replies waiting for DATA before it answers anyway (a client that waits fails the test, it does not hang it). */
const HOLD_MS = 1500;

async function startMx(host: string, script: Script): Promise<ScriptedMx> {
  const mx: ScriptedMx = { host, port: 0, sessions: [], script, close: () => Promise.resolve() };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => { sockets.delete(socket); clearTimeout(holdTimer); });
    socket.on('error', () => undefined);
    const session: MxSession = { transactions: [], lines: [] };
    mx.sessions.push(session);
    let tx: Transaction | null = null;
    let accepted = 0;
    let replies = 0; // written in the current transaction
    let sessionReplies = 0;
    let mailOk = false;
    let held: string[] | null = null;
    let holdTimer: NodeJS.Timeout | undefined;
    let data: Buffer[] | null = null;
    let pending = Buffer.alloc(0);
    const say = (r: string) => { if (held) held.push(r); else { socket.write(r + '\r\n'); sessionReplies++; if (tx) replies++; } };
    const flush = () => {
      clearTimeout(holdTimer);
      const out = held ?? [];
      held = null;
      for (const r of out) say(r);
    };
    const command = (line: string, repliesBefore: number, sessionBefore: number) => {
      session.lines.push({ line, repliesBefore: sessionBefore });
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO') return say(['250-mx.test', ...(script.pipelining ? ['250-PIPELINING'] : []), '250-SIZE 10000000', '250-8BITMIME', '250-DSN', '250 ENHANCEDSTATUSCODES'].join('\r\n'));
      if (verb === 'MAIL') {
        tx = { commands: [], body: null };
        session.transactions.push(tx);
        accepted = 0;
        replies = 0;
        tx.commands.push({ line, repliesBefore });
        if (script.pipelining) { held = []; holdTimer = setTimeout(flush, HOLD_MS); }
        const r = script.mail?.() ?? '250 2.1.0 Ok';
        mailOk = r.startsWith('2');
        return say(r);
      }
      if (verb === 'RCPT') {
        tx?.commands.push({ line, repliesBefore });
        if (!mailOk) return say('503 5.5.1 Error: need MAIL command');
        const r = script.rcpt?.(/<([^>]*)>/.exec(line)?.[1] ?? '') ?? '250 2.1.5 Ok';
        if (r.startsWith('2')) accepted++;
        return say(r);
      }
      if (verb === 'DATA') {
        tx?.commands.push({ line, repliesBefore });
        const r = script.data?.(accepted) ?? (accepted > 0 ? '354 End data with <CR><LF>.<CR><LF>' : '554 5.5.1 Error: no valid recipients');
        say(r);
        flush();
        if (r.startsWith('354')) data = [];
        return;
      }
      if (verb === 'RSET') { tx = null; mailOk = false; return say(script.rset?.() ?? '250 2.0.0 Ok'); }
      if (verb === 'QUIT') { say('221 2.0.0 Bye'); socket.end(); return; }
      tx?.commands.push({ line, repliesBefore });
      say('502 5.5.2 Error: command not recognized');
    };
    socket.on('data', (chunk: Buffer) => {
      const repliesBefore = replies;
      const sessionBefore = sessionReplies;
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (data) {
          const end = pending.indexOf('\r\n.\r\n');
          const bare = data.length === 0 && pending.subarray(0, 3).equals(Buffer.from('.\r\n'));
          if (end < 0 && !bare) return;
          const cut = bare ? 0 : end + 2;
          data.push(pending.subarray(0, cut));
          pending = pending.subarray(cut + 3);
          if (tx) tx.body = Buffer.concat(data);
          data = null;
          tx = null;
          mailOk = false;
          say('250 2.0.0 Ok: queued as 4XYZ');
          continue;
        }
        const nl = pending.indexOf('\r\n');
        if (nl < 0) return;
        const line = pending.subarray(0, nl).toString('utf8');
        pending = pending.subarray(nl + 2);
        command(line, repliesBefore, sessionBefore);
      }
    });
    socket.write('220 mx.test ESMTP\r\n');
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, host, resolve); });
  mx.port = (server.address() as net.AddressInfo).port;
  mx.close = () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); });
  return mx;
}

const message = (recipients: string[], extra: Partial<AttemptMessage> = {}): AttemptMessage =>
  ({ messageId: 'M1', mailFrom: 'a@sender.test', size: BODY.length, recipients, ...extra });
const target = (mx: ScriptedMx): SessionTarget => ({
  host: 'mx.example.test', address: mx.host, port: mx.port, auth: null,
  security: { level: 'none', source: 'policy', names: ['mx.example.test'], tlsa: [] },
});
const outcomes = (r: Awaited<ReturnType<SmtpAttempt['run']>>) =>
  r.recipients.map((x) => [x.address, x.outcome === 'failed' ? `${x.verdict.kind} ${x.verdict.reply}` : `${x.outcome} ${x.response}`]);
const verbs = (t: Transaction) => t.commands.map((c) => c.line.slice(0, 4));

/** Records the client sockets' own write calls (Writable's _write/_writev) to `port`, one entry per call, until restore(). */
function watchWrites(port: number): { writes: Buffer[][]; restore: () => void } {
  const writes: Buffer[][] = [];
  const proto = net.Socket.prototype as unknown as { _write: Function; _writev: Function };
  const { _write, _writev } = proto;
  const mine = (s: net.Socket) => s.remotePort === port;
  proto._write = function (this: net.Socket, chunk: Buffer, ...rest: unknown[]) { if (mine(this)) writes.push([Buffer.from(chunk)]); return _write.call(this, chunk, ...rest); };
  proto._writev = function (this: net.Socket, chunks: { chunk: Buffer }[], ...rest: unknown[]) { if (mine(this)) writes.push(chunks.map((c) => Buffer.from(c.chunk))); return _writev.call(this, chunks, ...rest); };
  return { writes, restore: () => { proto._write = _write; proto._writev = _writev; } };
}

describe('outbound PIPELINING (RFC 2920)', () => {
  let piped: ScriptedMx;
  let lockstep: ScriptedMx;
  const refuse = (a: string) => (a.startsWith('gone') ? '550 5.1.1 <' + a + '>: Recipient address rejected: no such user'
    : a.startsWith('full') ? '452 4.2.2 <' + a + '>: Mailbox full' : '250 2.1.5 Ok');

  before(async () => {
    piped = await startMx('127.0.0.61', { pipelining: true, rcpt: refuse });
    lockstep = await startMx('127.0.0.62', { pipelining: false, rcpt: refuse });
  });
  after(async () => { await Promise.all([piped.close(), lockstep.close()]); });

  const fresh = () => { const pool = new ConnectionPool({ config }); return { pool, attempt: new SmtpAttempt({ pool, store }) }; };
  const rcpts = ['one@example.test', 'gone@example.test', 'two@example.test', 'full@example.test'];
  const expected = [
    ['one@example.test', 'delivered 250 2.0.0 Ok: queued as 4XYZ'],
    ['gone@example.test', 'permanent 550 5.1.1 <gone@example.test>: Recipient address rejected: no such user'],
    ['two@example.test', 'delivered 250 2.0.0 Ok: queued as 4XYZ'],
    ['full@example.test', 'temporary 452 4.2.2 <full@example.test>: Mailbox full'],
  ];

  it('sends MAIL, every RCPT and DATA without waiting when PIPELINING is offered; each RCPT reply decides its own recipient', async () => {
    const { pool, attempt } = fresh();
    const dsn = { recipients: new Map([['two@example.test', { notify: ['SUCCESS' as const, 'FAILURE' as const] }]]) };
    const r = await attempt.run(message(rcpts, { dsn }), target(piped));
    assert.equal(r.hostFailure, null);
    assert.deepEqual(outcomes(r), expected);
    const t = piped.sessions.at(-1)!.transactions.at(-1)!;
    assert.deepEqual(verbs(t), ['MAIL', 'RCPT', 'RCPT', 'RCPT', 'RCPT', 'DATA']);
    assert.deepEqual(t.commands.map((c) => c.repliesBefore), [0, 0, 0, 0, 0, 0], 'all of the group reached the MX before it answered MAIL');
    assert.equal(t.commands[0]!.line, `MAIL FROM:<a@sender.test> BODY=8BITMIME SIZE=${BODY.length}`);
    assert.deepEqual(t.commands.slice(1, 5).map((c) => c.line), rcpts.map((a) => `RCPT TO:<${a}>${a.startsWith('two') ? ' NOTIFY=SUCCESS,FAILURE' : ''}`),
      "each RCPT carries its own recipient's DSN parameters");
    assert.ok(t.body?.equals(STUFFED), 'the body, dot-stuffed, once');
    pool.closeAll();
  });

  it('hands the socket the body and its final "." in one write', async () => {
    // The MX runs in this process and reads whatever arrived, so it cannot tell one write from
    // two: the client socket's own write calls (Writable's _write/_writev) are watched instead.
    const { writes, restore } = watchWrites(piped.port);
    const { pool, attempt } = fresh();
    try {
      const r = await attempt.run(message(['one@example.test']), target(piped));
      assert.deepEqual(outcomes(r), [expected[0]]);
    } finally {
      restore();
      pool.closeAll();
    }
    const last = [...writes].reverse().find((w) => Buffer.concat(w).includes(STUFFED));
    assert.ok(last, 'the body was written');
    assert.ok(Buffer.concat(last).subarray(-5).equals(Buffer.from('\r\n.\r\n')), 'the same write ends the data');
  });

  it('writes a whole message that needs no stuffing straight to the socket: the same bytes and end of data as DataStream, in one write', async () => {
    // smtp-connection.ts bypasses nodemailer's DataStream for such a Buffer; the wire must not change:
    // the message as it is, then CRLF "." CRLF, of which the CRLF is left out after an LF and the LF after a CR.
    const cases: [string, Buffer, Buffer][] = [
      ['ends with CRLF', Buffer.from('Subject: a\r\n\r\nline\r\n'), Buffer.from('Subject: a\r\n\r\nline\r\n.\r\n')],
      ['no line end at the end', Buffer.from('Subject: b\r\n\r\nline'), Buffer.from('Subject: b\r\n\r\nline\r\n.\r\n')],
      ['ends with a CR', Buffer.from('Subject: c\r\n\r\nline\r'), Buffer.from('Subject: c\r\n\r\nline\r\n.\r\n')],
      ['a bare LF (DataStream rewrites it)', Buffer.from('Subject: d\r\n\r\nbare\nlf\r\n'), Buffer.from('Subject: d\r\n\r\nbare\r\nlf\r\n.\r\n')],
    ];
    const { writes, restore } = watchWrites(piped.port);
    const pool = new ConnectionPool({ config });
    try {
      for (const [name, body, wire] of cases) {
        writes.length = 0;
        const attempt = new SmtpAttempt({ pool, store: { readMessage: async () => body, readBody: () => Readable.from([body]) } });
        const r = await attempt.run(message(['one@example.test'], { size: body.length }), target(piped));
        assert.deepEqual(outcomes(r), [expected[0]], name);
        const last = writes.find((w) => Buffer.concat(w).subarray(0, 10).equals(body.subarray(0, 10)));
        assert.ok(last, `${name}: the body was written`);
        assert.deepEqual(Buffer.concat(last).toString('latin1'), wire.toString('latin1'), `${name}: the bytes on the wire, with the end of data, in one write`);
        assert.ok(piped.sessions.at(-1)!.transactions.at(-1)!.body?.equals(wire.subarray(0, wire.length - 3)), `${name}: what the MX received`);
      }
    } finally {
      restore();
      pool.closeAll();
    }
  });

  it('delivers a 100 KB message byte for byte; written straight, its bytes are freed once the socket wrote them; one needing dot-stuffing or line-end repair goes through DataStream', async () => {
    const lines = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('');
    const plain = Buffer.from('Subject: big\r\n\r\n' + lines(1500, (i) => `line ${i} ${'x'.repeat(60)}\r\n`));
    const dotted = Buffer.from('Subject: dots\r\n\r\n' + lines(1500, (i) => `${i % 100 === 7 ? '.' : ''}line ${i} ${'y'.repeat(60)}\r\n`) + '.\r\n');
    const bare = Buffer.concat([plain.subarray(0, 50_000), Buffer.from('bare\nlf, bare\rcr\r\n.lead\r\n'), plain.subarray(50_000), Buffer.from('no end')]);
    // what RFC 5321 transparency and DataStream's repair make of it (CRLF everywhere, a dot doubled at a line start)
    const onWire = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n').replace(/(^|\r\n)\./g, '$1..') + (/\r\n$/.test(b.toString('latin1')) ? '' : '\r\n'), 'latin1');
    const pool = new ConnectionPool({ config });
    try {
      for (const [name, body, released] of [['plain', plain, true], ['a line starting with a dot', dotted, false], ['bare CR and LF, no line end at the end', bare, false]] as const) {
        let handed: Buffer | null = null;
        const read = async () => { handed = Buffer.allocUnsafeSlow(body.length); body.copy(handed); return handed; };
        const attempt = new SmtpAttempt({ pool, store: { readMessage: read, readBody: () => Readable.from([body]) } });
        const r = await attempt.run(message(['one@example.test'], { size: body.length }), target(piped));
        assert.deepEqual(outcomes(r), [expected[0]], name);
        const got = piped.sessions.at(-1)!.transactions.at(-1)!.body!;
        assert.ok(body.length > 100_000 && got.equals(onWire(body)), `${name}: the MX received exactly the transparent form (${got.length} bytes)`);
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(handed!.length, released ? 0 : body.length, released ? `${name}: its bytes were released after the write` : `${name}: left as it was`);
      }
    } finally {
      pool.closeAll();
    }
  });

  it('sends one command at a time when PIPELINING is not offered, with the same per-recipient results', async () => {
    const { pool, attempt } = fresh();
    const r = await attempt.run(message(rcpts), target(lockstep));
    assert.equal(r.hostFailure, null);
    assert.deepEqual(outcomes(r), expected);
    const t = lockstep.sessions.at(-1)!.transactions.at(-1)!;
    assert.deepEqual(verbs(t), ['MAIL', 'RCPT', 'RCPT', 'RCPT', 'RCPT', 'DATA']);
    assert.deepEqual(t.commands.map((c) => c.repliesBefore), [0, 1, 2, 3, 4, 5], 'each command after the reply to the one before');
    assert.ok(t.body?.equals(STUFFED));
    pool.closeAll();
  });

  it('sends no body when every RCPT was refused and the MX refuses DATA (RFC 2920 §3.1), and keeps the session for the next message', async () => {
    const { pool, attempt } = fresh();
    const before = piped.sessions.length;
    const r = await attempt.run(message(['gone@example.test', 'full@example.test']), target(piped));
    assert.equal(r.hostFailure, null);
    assert.deepEqual(outcomes(r), expected.filter(([a]) => a === 'gone@example.test' || a === 'full@example.test'));
    const s = piped.sessions.at(-1)!;
    const t = s.transactions.at(-1)!;
    assert.deepEqual(verbs(t), ['MAIL', 'RCPT', 'RCPT', 'DATA'], 'nothing after DATA: no body lines taken for commands');
    assert.equal(t.body, null);
    const next = await attempt.run(message(['one@example.test']), target(piped));
    assert.deepEqual(outcomes(next), [expected[0]]);
    assert.equal(piped.sessions.length - before, 1, 'the same session carried the next message');
    const group = s.lines.slice(-4);
    assert.deepEqual(group.map((l) => l.line.slice(0, 4)), ['RSET', 'MAIL', 'RCPT', 'DATA']);
    assert.ok(group.every((l) => l.repliesBefore === group[0]!.repliesBefore), 'RSET went with the group: the client did not wait for its reply');
    assert.ok(s.transactions.at(-1)!.body?.equals(STUFFED));
    pool.closeAll();
  });

  it('waits for the RSET reply on a reused session when PIPELINING is not offered', async () => {
    const { pool, attempt } = fresh();
    await attempt.run(message(['one@example.test']), target(lockstep));
    const r = await attempt.run(message(['two@example.test']), target(lockstep));
    assert.deepEqual(outcomes(r), [expected[2]]);
    const tail = lockstep.sessions.at(-1)!.lines.slice(-4);
    assert.deepEqual(tail.map((l) => l.line.slice(0, 4)), ['RSET', 'MAIL', 'RCPT', 'DATA']);
    assert.deepEqual(tail.map((l) => l.repliesBefore - tail[0]!.repliesBefore), [0, 1, 2, 3]);
    pool.closeAll();
  });

  it('tries the message on a fresh session when a pipelined RSET is refused and the transaction fails with it', async () => {
    let rset = '250 2.0.0 Ok';
    let refuseMail = 0;
    const mail = () => (refuseMail-- > 0 ? '503 5.5.1 Error: nested MAIL command' : '250 2.1.0 Ok');
    const odd = await startMx('127.0.0.65', { pipelining: true, rset: () => rset, mail });
    try {
      const { pool, attempt } = fresh();
      assert.deepEqual(outcomes(await attempt.run(message(['one@example.test']), target(odd))), [expected[0]]);
      rset = '500 5.5.1 Error: unexpected RSET';
      refuseMail = 1;
      const r = odd.sessions.length;
      // The pipelined RSET and MAIL of the reused session are refused: not the message's fault; the fresh session takes it.
      const again = await attempt.run(message(['two@example.test']), target(odd));
      assert.equal(again.hostFailure, null);
      assert.deepEqual(outcomes(again), [expected[2]]);
      assert.equal(odd.sessions.length - r, 1, 'one fresh session');
      assert.deepEqual(odd.sessions[0]!.lines.slice(-5).map((l) => l.line.slice(0, 4)), ['RSET', 'MAIL', 'RCPT', 'DATA', 'QUIT'], 'the session is not trusted: ended');
      assert.equal(odd.sessions[0]!.transactions.at(-1)!.body, null, 'no body on the refused transaction');
      // A refused RSET whose transaction went through: delivered, once.
      rset = '500 5.5.1 Error: unexpected RSET';
      const ok = await attempt.run(message(['one@example.test']), target(odd));
      assert.deepEqual(outcomes(ok), [expected[0]]);
      assert.equal(odd.sessions.length - r, 1, 'no further session');
      pool.closeAll();
    } finally {
      await odd.close();
    }
  });

  it('ends a DATA the MX wrongly accepted after every RCPT was refused with a lone dot, sending no body', async () => {
    const lax = await startMx('127.0.0.63', { pipelining: true, rcpt: () => '550 5.1.1 No such user', data: () => '354 go ahead' });
    try {
      const { pool, attempt } = fresh();
      const r = await attempt.run(message(['gone@example.test']), target(lax));
      assert.equal(r.hostFailure, null);
      assert.deepEqual(outcomes(r), [['gone@example.test', 'permanent 550 5.1.1 No such user']]);
      const t = lax.sessions[0]!.transactions[0]!;
      assert.deepEqual(t.body, Buffer.alloc(0), 'only the end-of-data dot');
      pool.closeAll();
    } finally {
      await lax.close();
    }
  });

  it('reports a refused MAIL FROM as the host failure, whatever the RCPT and DATA replies in the group were', async () => {
    const busy = await startMx('127.0.0.64', { pipelining: true, mail: () => '451 4.3.0 Try again later', rcpt: () => '503 5.5.1 Error: need MAIL command' });
    try {
      const { pool, attempt } = fresh();
      const r = await attempt.run(message(['one@example.test', 'two@example.test']), target(busy));
      assert.deepEqual([r.hostFailure?.kind, r.hostFailure?.reply], ['temporary', '451 4.3.0 Try again later']);
      assert.deepEqual(r.recipients, []);
      const t = busy.sessions[0]!.transactions[0]!;
      assert.deepEqual(verbs(t), ['MAIL', 'RCPT', 'RCPT', 'DATA']);
      assert.equal(t.body, null);
      pool.closeAll();
    } finally {
      await busy.close();
    }
  });
});
