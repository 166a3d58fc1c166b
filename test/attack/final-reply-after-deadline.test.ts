// Attack (left open by lease29/slot30, closed by helper slow31): an attempt waiting for the reply
// to its end of data when its deadline came was cut (attempt-deadline.ts), so a reply arriving just
// after the cut was lost: the server had the message, we deferred it 4.4.2 and sent it again later
// (RFC 1047's duplicate). A hostile MX can aim for that on purpose (answer the final dot just past
// the deadline), an honest but slow one does it by chance. Now an attempt that has sent the whole
// message waits for that reply up to a later edge, half the record margin and a sweep interval
// before the lease ends (finalReplyEdge), and is cut only then. On the injected clock (the deadline follows the lease,
// 10 min by default) over real sockets: an MX that holds its reply to the final dot until the relay
// has passed the deadline, and one that never answers it.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { createFixture, enqueue, ManualClock, waitForLog, waitForStates, type Fixture } from '../delivery/fixture.js';
import { attemptDeadline, finalReplyEdge } from '../../src/delivery/attempt-deadline.js';
import { greetAndEhlo, startHostileMx, type HostileMx } from './hostile-mx.js';

const DNS = '127.0.71.21';
const LATE = '127.0.71.22'; // reads the whole message, then answers its final dot only when told
const LEASE_MS = 10 * 60_000; // the default delivery.leaseTime

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('attack: the reply to the end of data arrives after the attempt deadline', () => {
  let dns: DnsServer;
  let late: HostileMx;
  let f: Fixture | undefined;
  /** Final dots the MX has read, replies to them it sent (delivered messages), sessions it saw close. */
  let dots = 0;
  let accepted = 0;
  let closed = 0;
  /** Answers the final dot that waits (set while one waits). */
  let answer: ((reply: string) => void) | null = null;

  before(async () => {
    dns = await startDnsServer({ host: DNS });
    late = await startHostileMx(LATE, async (s) => {
      s.socket.once('close', () => { closed++; });
      if (!await greetAndEhlo(s, ['8BITMIME', 'PIPELINING'])) return;
      let inData = false;
      for (let l = await s.line(); l !== null; l = await s.line()) {
        if (inData) {
          if (l !== '.') continue;
          inData = false;
          dots++;
          answer = (reply) => { answer = null; if (reply.startsWith('250')) accepted++; s.write(reply); };
          continue;
        }
        if (l.startsWith('MAIL') || l.startsWith('RCPT') || l.startsWith('RSET')) s.write('250 ok\r\n');
        else if (l === 'DATA') { inData = true; s.write('354 go\r\n'); }
        else if (l === 'QUIT') { s.write('221 bye\r\n'); s.socket.end(); return; }
      }
    });
    dns.setZone({ 'late.test': { MX: [{ exchange: 'mx.late.test', priority: 10 }] }, 'mx.late.test': { A: [LATE] } });
  });
  after(async () => { await Promise.all([late.close(), dns.close()]); });
  afterEach(async () => { await f?.close(); f = undefined; dots = 0; accepted = 0; closed = 0; answer = null; });

  /** A relay on `clock` (default lease), one message to late.test; resolves once the MX holds its final dot. */
  async function untilFinalDot(clock: ManualClock, body?: Buffer): Promise<string> {
    f = await createFixture({
      port: late.port, dns, clock, overrides: { 'delivery.commandTimeout': '30s', 'delivery.retrySchedule': { initial: '1m', factor: 1, max: '1m', jitter: 0 } },
    });
    f.scheduler.start();
    const id = await enqueue(f, { from: 'a@sender.test', to: ['b@late.test'], ...(body ? { body } : {}) });
    for (const until = Date.now() + 10_000; answer === null;) { assert.ok(Date.now() < until, 'the MX got the final dot'); await sleep(10); }
    await sleep(100); // the relay waits for the reply
    return id;
  }

  it('a reply just after the deadline is recorded as delivered, and the message is not sent again', async () => {
    const clock = new ManualClock();
    const id = await untilFinalDot(clock);
    clock.advance(LEASE_MS - 30_000 + 1); // past the deadline (the lease less its 30 s margin)
    const wait = await waitForLog(f!, (l) => l.event === 'delivery.final_reply_wait' && l.id === id);
    assert.equal(Number(wait.deadline), attemptDeadline(Number(wait.leaseUntil), LEASE_MS));
    assert.equal(Number(wait.until), finalReplyEdge(Number(wait.deadline), Number(wait.leaseUntil), LEASE_MS));
    assert.equal(Number(wait.leaseUntil) - Number(wait.until), 16_000, 'cut by 15 s before the lease ends at the latest: the result is recorded inside it');
    assert.equal(closed, 0, 'the connection was not cut');
    clock.advance(5_000); // the reply comes 5 s after the deadline
    answer!('250 2.0.0 queued as 1234\r\n');
    const m = await waitForStates(f!, id, ['delivered'], 5000);
    assert.equal(m.recipients[0]!.attempts, 1);
    assert.match(m.recipients[0]!.lastResponse ?? '', /queued as 1234/);
    assert.ok(!f!.logs.some((l) => l.event === 'delivery.attempt_deadline'), 'not cut');
    // Nothing is retried: a minute and more later (the retry schedule here), no second copy reaches the MX.
    clock.advance(10 * 60_000);
    f!.scheduler.notify();
    await sleep(500);
    assert.deepEqual([dots, accepted], [1, 1], 'one message at the MX');
    assert.ok(!f!.logs.some((l) => l.event === 'delivery.lease_overrun'));
  });

  it('a streamed message (over 256 KiB, not read whole) waits for its reply alike', async () => {
    const clock = new ManualClock();
    const line = 'y'.repeat(998) + '\r\n';
    const id = await untilFinalDot(clock, Buffer.from('From: a@sender.test\r\nTo: b@late.test\r\nSubject: big\r\n\r\n' + line.repeat(400)));
    clock.advance(LEASE_MS - 30_000 + 1);
    await waitForLog(f!, (l) => l.event === 'delivery.final_reply_wait' && l.id === id);
    answer!('250 2.0.0 queued\r\n');
    await waitForStates(f!, id, ['delivered'], 5000);
    assert.ok(!f!.logs.some((l) => l.event === 'delivery.attempt_deadline'));
    assert.deepEqual([dots, accepted], [1, 1]);
  });

  it('no reply by the edge: cut there, deferred 4.4.2 (the lease still holds)', async () => {
    const clock = new ManualClock();
    const id = await untilFinalDot(clock);
    clock.advance(LEASE_MS - 30_000 + 1);
    await waitForLog(f!, (l) => l.event === 'delivery.final_reply_wait' && l.id === id);
    await sleep(300);
    assert.equal((await f!.store.getMessage(id))!.recipients[0]!.state, 'delivering', 'still waiting before the edge');
    clock.advance(14_000); // the edge: 16 s before the lease ends (half the margin and a sweep)
    const m = await waitForStates(f!, id, ['deferred'], 5000);
    assert.match(m.recipients[0]!.lastResponse ?? '', /^4\.4\.2 the attempt reached its deadline/);
    const cut = await waitForLog(f!, (l) => l.event === 'delivery.attempt_deadline' && l.id === id);
    assert.equal(cut.awaitedFinalReply, true);
    assert.equal(Number(cut.leaseUntil) - Number(cut.until), 16_000);
    for (const until = Date.now() + 2000; closed === 0 && Date.now() < until;) await sleep(20);
    assert.equal(closed, 1, 'the MX saw the connection cut');
    assert.deepEqual([dots, accepted], [1, 0]);
  });
});
