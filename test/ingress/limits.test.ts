// Session limits over real sockets: idle and DATA timeouts, AUTH brute force, connection limits,
// the error budget, and a graceful close() that lets a transaction in DATA finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, USERS, b64, eventually, startHarness } from './harness.js';

test('a slow client is timed out: 421 4.4.2 and close, between commands and during DATA', async () => {
  const h = await startHarness({ 'smtp.commandTimeout': '300ms', 'smtp.dataTimeout': '300ms' });
  try {
    // The relay starts the timeout when it has written the greeting, before this client reads it
    // (later under load): t0 is taken before the connection, not after the greeting is read.
    const t0 = Date.now();
    const c = await Client.connect(h.port('mx'));
    assert.equal(await c.read(), '220 relay.test Postlane ESMTP\r\n');
    assert.equal(await c.read(15_000), '421 Timeout, closing connection\r\n', 'before EHLO: no enhanced code');
    assert.ok(Date.now() - t0 >= 290, 'not before commandTimeout (less a timer\'s clock rounding)');
    assert.equal(await c.isClosedWithin(), true);

    const d = await Client.ready(h.port('mx'), 'plain');
    await d.cmd('MAIL FROM:<a@far.example>');
    await d.cmd('RCPT TO:<postmaster@relay.test>');
    await d.cmd('DATA');
    d.write('Subject: stalled\r\n\r\nhalf a messa');
    assert.equal(await d.read(15_000), '421 4.4.2 Timeout, closing connection\r\n');
    assert.equal(await d.isClosedWithin(), true);
    assert.deepEqual(await h.storedIds(), []);
  } finally {
    await h.close();
  }
});

test('timeouts run from each wait: commands within the limit keep a session alive past it; a stall during DATA gets dataTimeout, not commandTimeout', async () => {
  // connection.ts re-arms one timer per timeout length at each wait (issue 14) instead of a new one per command.
  const h = await startHarness({ 'smtp.commandTimeout': '1s', 'smtp.dataTimeout': '3s' });
  // (slack of 700 ms and more between each wait and its timeout: a loaded machine can stall the
  // process a few hundred ms, and then the relay's overdue timer runs before the overdue read)
  try {
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const c = await Client.ready(h.port('mx'), 'plain');
    const t0 = Date.now();
    for (let i = 0; i < 7; i++) { await pause(300); assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n'); }
    assert.ok(Date.now() - t0 >= 2100, 'alive for more than twice commandTimeout');
    await c.cmd('MAIL FROM:<a@far.example>');
    await c.cmd('RCPT TO:<postmaster@relay.test>');
    assert.match(await c.cmd('DATA'), /^354 /);
    c.write('Subject: slow\r\n\r\n');
    await pause(1500); // past commandTimeout, within dataTimeout: the command timer armed before DATA must not fire
    assert.match(await c.cmd('body\r\n.'), /^250 2\.0\.0 /);
    const t1 = Date.now();
    assert.equal(await c.read(15_000), '421 4.4.2 Timeout, closing connection\r\n', 'idle after DATA: commandTimeout');
    const idle = Date.now() - t1;
    assert.ok(idle >= 950 && idle < 2900, `timed out after ${idle} ms (commandTimeout 1000)`);
    assert.equal(await c.isClosedWithin(), true);

    const d = await Client.ready(h.port('mx'), 'plain');
    await d.cmd('MAIL FROM:<a@far.example>');
    await d.cmd('RCPT TO:<postmaster@relay.test>');
    await d.cmd('DATA');
    d.write('Subject: stalled\r\n\r\nhalf');
    const t2 = Date.now();
    assert.equal(await d.read(15_000), '421 4.4.2 Timeout, closing connection\r\n');
    assert.ok(Date.now() - t2 >= 2900, `DATA stall timed out after ${Date.now() - t2} ms (dataTimeout 3000)`);
    assert.equal((await h.storedIds()).length, 1);
  } finally {
    await h.close();
  }
});

test('AUTH brute force: failures are slowed down, then the client address is locked out', async () => {
  const h = await startHarness({ 'smtp.auth': { maxFailures: 3, failureDelay: '100ms', failureWindow: '1h', lockout: '1h' } });
  try {
    const c = await Client.ready(h.port('submission'), 'starttls');
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      assert.equal(await c.cmd(`AUTH PLAIN ${b64(`\0alice\0guess${i}`)}`), '535 5.7.8 Authentication credentials invalid\r\n');
      delays.push(Date.now() - t0);
    }
    assert.ok(delays[0]! >= 90 && delays[1]! >= 190 && delays[2]! >= 390, `delays double: ${delays}`);
    assert.equal(await c.cmd(`AUTH PLAIN ${b64('\0alice\0secret')}`), '421 4.7.0 Too many failed authentications, try again later\r\n',
      'locked out: even the right password is not checked');
    assert.equal(await c.isClosedWithin(), true);

    const again = await Client.ready(h.port('submissions'), 'implicit-auth').then(() => 'authenticated', (err: Error) => err.message);
    assert.match(again, /AUTH failed: 421 4\.7\.0/, 'the lockout covers every listener');
    assert.ok(h.logs.some((l) => l.event === 'smtp.auth_locked'));
    assert.equal(h.logs.filter((l) => l.event === 'smtp.auth_failed').length, 3);
  } finally {
    await h.close();
  }
});

test('AUTH in parallel: 30 sessions from one address get no more guesses than sequential ones', async () => {
  // The password check takes time, as scrypt does: the guesses really are in flight together.
  const slowCheck = async (user: string, password: string) => { await new Promise((r) => setTimeout(r, 50)); return USERS.get(user) === password; };
  const h = await startHarness({ 'smtp.auth': { maxFailures: 5, failureDelay: '10ms', failureWindow: '1h', lockout: '1h' } }, { authenticate: slowCheck });
  try {
    const clients = await Promise.all(Array.from({ length: 30 }, () => Client.ready(h.port('submission'), 'starttls')));
    // 29 wrong passwords and the right one, all sent at once.
    const answers = await Promise.all(clients.map((c, i) => c.cmd(`AUTH PLAIN ${b64(i === 29 ? '\0alice\0secret' : `\0alice\0guess${i}`)}`)));
    const wrong = answers.slice(0, 29);
    assert.ok(wrong.filter((a) => a.startsWith('535 ')).length <= 5, `at most maxFailures guesses are checked: ${wrong.map((a) => a.slice(0, 3))}`);
    assert.ok(wrong.every((a) => a.startsWith('535 ') || a.startsWith('421 4.7.0 ')), 'the rest are locked out');
    assert.ok(h.logs.filter((l) => l.event === 'smtp.auth_failed').length <= 5);
    const late = await Client.ready(h.port('submission'), 'starttls');
    assert.equal(await late.cmd(`AUTH PLAIN ${b64('\0alice\0secret')}`), '421 4.7.0 Too many failed authentications, try again later\r\n');
  } finally {
    await h.close();
  }
});

test('a good login as one user does not reset the guesses at another', async () => {
  const h = await startHarness({ 'smtp.auth': { maxFailures: 5, failureDelay: '10ms', failureWindow: '1h', lockout: '1h' } });
  try {
    const answers: string[] = [];
    for (let round = 0; round < 3; round++) {
      const c = await Client.ready(h.port('submission'), 'starttls');
      for (let i = 0; i < 4; i++) answers.push(await c.cmd(`AUTH PLAIN ${b64(`\0alice\0guess${round}${i}`)}`).catch(() => 'closed'));
      const b = await Client.ready(h.port('submission'), 'starttls');
      answers.push(await b.cmd(`AUTH PLAIN ${b64('\0bob\0pä$$ wörd')}`));
    }
    assert.deepEqual(answers.slice(0, 5).map((a) => a.slice(0, 3)), ['535', '535', '535', '535', '235'], 'round 1: four guesses, then bob logs in');
    assert.equal(answers[5]!.slice(0, 3), '535', 'the fifth guess at alice is still counted');
    const c = await Client.ready(h.port('submission'), 'starttls');
    assert.equal(await c.cmd(`AUTH PLAIN ${b64('\0alice\0secret')}`), '421 4.7.0 Too many failed authentications, try again later\r\n',
      'locked after five guesses, whatever bob did in between');
  } finally {
    await h.close();
  }
});

test('connection limits: per client address and in total, 421 4.7.0', async () => {
  // A clock that stands still: no session ever gets old enough to be evicted to make room.
  const h = await startHarness({ 'smtp.maxConnectionsPerIp': 2, 'smtp.maxConnections': 3 }, { clock: { now: () => 1_700_000_000_000 } });
  const open: Client[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      open.push(await Client.connect(h.port('mx')));
      assert.match(await open[i]!.read(), /^220 /);
    }
    const third = await Client.connect(h.port('mx'));
    assert.equal(await third.read(), '421 4.7.0 Too many connections, try again later\r\n');
    assert.equal(await third.isClosedWithin(), true);

    open.push(await Client.connect(h.port('submission'), { localAddress: '127.0.0.2' }));
    assert.match(await open[2]!.read(), /^220 /, 'another address may still connect');
    const fourth = await Client.connect(h.port('mx'), { localAddress: '127.0.0.3' });
    assert.equal(await fourth.read(), '421 4.7.0 Too many connections, try again later\r\n', 'the total counts all listeners');

    open.shift()!.end();
    await eventually(async () => { // a slot is free again once the server saw that session end
      const later = await Client.connect(h.port('mx'));
      if ((await later.read()).startsWith('220 ')) return open.push(later) > 0;
      later.end();
      return false;
    });
  } finally {
    for (const c of open) c.end();
    await h.close();
  }
});

test('every slot held by idle clients from many addresses: a real client still gets in and sends (oldest idle evicted)', async () => {
  const clock = { t: 1_700_000_000_000, now() { return this.t; } };
  const h = await startHarness({ 'smtp.maxConnectionsPerIp': 5, 'smtp.maxConnections': 20 }, { clock });
  const attackers: Client[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const c = await Client.connect(h.port('submission'), { localAddress: `127.0.1.${10 + Math.floor(i / 5)}` });
      assert.match(await c.read(), /^220 /);
      attackers.push(c);
      clock.t += 10;
    }
    const refused = await Client.connect(h.port('submission'), { localAddress: '127.0.1.50' });
    assert.equal(await refused.read(), '421 4.7.0 Too many connections, try again later\r\n', 'all young: nobody is evicted');
    clock.t += 5000; // the idle sessions are now old enough to give way
    const client = await Client.ready(h.port('submission'), 'auth');
    assert.match(await client.cmd('MAIL FROM:<alice@example.com>'), /^250 /);
    assert.match(await client.cmd('RCPT TO:<bob@dest.example>'), /^250 /);
    assert.match(await client.cmd('DATA'), /^354 /);
    client.write('Subject: got in\r\n\r\nhi\r\n.\r\n');
    assert.match(await client.read(), /^250 2\.0\.0 Ok: queued as /);
    assert.equal(await attackers[0]!.read(), '421 4.7.0 Too many connections, try again later\r\n', 'the oldest idle session was closed');
    assert.equal(await attackers[0]!.isClosedWithin(), true);
    assert.ok(h.logs.some((l) => l.event === 'smtp.evicted' && l.ip === '127.0.1.10'));
    // An authenticated session is never evicted: the next newcomer takes the next oldest idle one.
    clock.t += 5000;
    const other = await Client.connect(h.port('submission'), { localAddress: '127.0.1.51' });
    assert.match(await other.read(), /^220 /);
    assert.match(await client.cmd('NOOP'), /^250 /, 'the authenticated client is still there');
    assert.equal(await attackers[1]!.read(), '421 4.7.0 Too many connections, try again later\r\n');
    other.end();
    client.end();
  } finally {
    for (const c of attackers) c.end();
    await h.close();
  }
});

test('before AUTH, an idle submission session is closed after smtp.preAuthTimeout; after AUTH, commandTimeout applies', async () => {
  const h = await startHarness({ 'smtp.preAuthTimeout': '300ms', 'smtp.commandTimeout': '1h' });
  try {
    const idle = await Client.ready(h.port('submission'), 'starttls');
    const authed = await Client.ready(h.port('submission'), 'auth');
    assert.equal(await idle.read(5000), '421 4.4.2 Timeout, closing connection\r\n');
    assert.equal(await idle.isClosedWithin(), true);
    assert.match(await authed.cmd('NOOP'), /^250 /, 'the authenticated session outlived the pre-AUTH limit');
    const mx = await Client.ready(h.port('mx'), 'plain');
    assert.match(await mx.cmd('NOOP'), /^250 /, 'mx peers keep the RFC 5321 timeout');
    authed.end();
    mx.end();
  } finally {
    await h.close();
  }
});

test('too many errors in one session: 421 and close', async () => {
  const h = await startHarness({ 'smtp.maxBadCommands': 3 });
  try {
    const c = await Client.ready(h.port('mx'), 'plain');
    assert.equal(await c.cmd('FOO'), '500 5.5.2 Command unrecognized\r\n');
    assert.equal(await c.cmd('BAR'), '500 5.5.2 Command unrecognized\r\n');
    c.send('BAZ');
    assert.equal(await c.read(), '500 5.5.2 Command unrecognized\r\n');
    assert.equal(await c.read(), '421 4.7.0 Too many errors, closing connection\r\n');
    assert.equal(await c.isClosedWithin(), true);
  } finally {
    await h.close();
  }
});

test('close(): idle sessions get 421 4.3.2, a transaction in DATA finishes and is stored', async () => {
  const h = await startHarness();
  let closed = false;
  try {
    const idle = await Client.ready(h.port('mx'), 'plain');
    const busy = await Client.ready(h.port('mx'), 'plain');
    await busy.cmd('MAIL FROM:<a@far.example>');
    await busy.cmd('RCPT TO:<postmaster@relay.test>');
    await busy.cmd('DATA');
    busy.write('Subject: in flight\r\n\r\nfirst half\r\n');
    const closing = h.ingress.close(3000).then(() => { closed = true; });
    assert.equal(await idle.read(), '421 4.3.2 Service shutting down\r\n');
    assert.equal(await idle.isClosedWithin(), true);
    assert.equal(closed, false, 'close() waits for the transaction');
    busy.write('second half\r\n.\r\n');
    const id = /queued as (\w+)/.exec(await busy.read())?.[1];
    assert.equal(await busy.read(), '421 4.3.2 Service shutting down\r\n');
    await closing;
    assert.ok(id);
    assert.match(await h.body(id!), /first half\r\nsecond half\r\n$/);
    await assert.rejects(Client.connect(h.port('mx')), /ECONNREFUSED/, 'no longer listening');
  } finally {
    await h.close();
  }
});

test('a client that pipelines commands but never reads the replies: once they back up, the session is closed within commandTimeout; others are served', async () => {
  const h = await startHarness({ 'smtp.commandTimeout': '500ms' });
  try {
    const { connect } = await import('node:net');
    const s = connect(h.port('mx'), '127.0.0.1');
    await new Promise<void>((resolve, reject) => { s.once('connect', () => resolve()); s.once('error', reject); });
    s.pause(); // never reads: the relay's replies (14 octets per NOOP) fill the socket buffers, then its write queue
    s.on('error', () => { /* a reset when the relay destroys the socket is expected */ });
    const closed = new Promise<number>((resolve) => s.once('close', () => resolve(Date.now())));
    const t0 = Date.now();
    const batch = Buffer.from('NOOP\r\n'.repeat(10_000));
    for (let i = 0; i < 1_500 && !s.destroyed; i++) s.write(batch); // 90 MB of commands at most, written as the relay takes them
    let timer: NodeJS.Timeout | undefined;
    const t = await Promise.race([closed, new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), 30_000); })]);
    clearTimeout(timer);
    assert.notEqual(t, null, 'closed by the relay, not left waiting for the client to read');
    const c = await Client.ready(h.port('mx'), 'plain');
    assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n');
    c.end();
  } finally {
    await h.close();
  }
});
