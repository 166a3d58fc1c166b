// Per-attempt cost of the slow lane's accounting with the slow-destination memory, and of the
// attempt deadline with its final-reply edge (what the scheduler and the runner do per attempt),
// for callgrind. Runs against whichever build ../../dist holds (before: main 77bda48; after: slow31).
import { SlowLane } from '../../dist/src/delivery/slow-lane.js';
import * as deadlines from '../../dist/src/delivery/attempt-deadline.js';
import { OutboundSmtpConnection } from '../../dist/src/delivery/smtp-connection.js';
const [mode, nArg] = process.argv.slice(2);
const N = Number(nArg);
const clock = { now: () => Date.now() };
const lane = new SlowLane({
  clock, slowAfterMs: 60_000, maxSlow: 100, perSlowDestination: 1, onSwept: () => undefined,
  memory: { destinations: 10_000, ttlMs: 3_600_000 }, // ignored before
});
// -mem modes: one other destination remembered (the memory is not empty; these are not in it)
if (mode.includes('-mem') && typeof lane.remember === 'function') lane.remember('slow.example', clock.now());
const d = new deadlines.AttemptDeadlines(clock, 1000);
const hasEdge = typeof deadlines.finalReplyEdge === 'function';
const half = hasEdge ? Math.floor(deadlines.recordMargin(600_000) / 2) : 0; // run-job.ts #finalReplyMargin, once
const job = { messageId: 'm', domain: 'example.com', leaseUntil: Date.now() + 600_000 };
const perDomain = new Map([['example.com', 1]]);
// limited-mem50: 50 destinations running, one (other) remembered
const perDomain50 = new Map(Array.from({ length: 50 }, (_, i) => [`d${i}.example`, 1]));
let sink = 0;
const conn = new OutboundSmtpConnection({});
const done = (err, str) => { if (str) sink++; };
const dests = ['example.com', 'example.net', 'example.org', 'example.edu'];
for (let i = 0; i < N; i++) {
  const dest = dests[i & 3];
  if (mode === 'core' || mode === 'core-mem') {
    sink += lane.fast;
    if (lane.admits(dest, 1)) sink++;
    const e = lane.begin(dest);
    if (lane.end(e)) sink++;
  } else if (mode === 'limited' || mode === 'limited-mem') {
    sink += lane.limited(perDomain).length;
  } else if (mode === 'limited-mem50') {
    sink += lane.limited(perDomain50).length;
  } else if (mode === 'reply') {
    // the reply to the end of data (after: through the _actionSMTPStream override, which clears the body)
    conn._actionSMTPStream('250 2.0.0 ok', done);
  } else if (mode === 'deadline') {
    // run-job.ts: the deadline (and, after, its edge), begin, end
    const at = Math.max(deadlines.attemptDeadline(job.leaseUntil, 600_000), clock.now() + 300_000);
    const a = hasEdge ? d.begin(at, Math.max(at, job.leaseUntil - half), job) : d.begin(at);
    if (a.passed) sink++;
    d.end(a);
  } else {
    sink += perDomain.size;
    sink += dest.length;
  }
}
lane.close();
if (sink === -1) console.log(sink);
