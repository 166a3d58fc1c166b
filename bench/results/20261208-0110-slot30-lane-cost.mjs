// Per-attempt cost of the slow lane's accounting (what scheduler.ts now does per attempt), for callgrind.
import { SlowLane } from '../../dist/src/delivery/slow-lane.js';
const [mode, nArg] = process.argv.slice(2);
const N = Number(nArg);
const clock = { now: () => Date.now() };
const lane = new SlowLane({ clock, slowAfterMs: 60_000, maxSlow: 100, perSlowDestination: 1, onSwept: () => undefined });
const perDomain = new Map([['example.com', 1]]);
let sink = 0;
const dests = ['example.com', 'example.net', 'example.org', 'example.edu'];
for (let i = 0; i < N; i++) {
  const dest = dests[i & 3];
  if (mode === 'core') {
    sink += lane.fast;
    if (lane.admits(dest, 1)) sink++;
    const e = lane.begin(dest);
    if (lane.end(e)) sink++;
  } else if (mode === 'limited') {
    sink += lane.limited(perDomain).length;
  } else if (mode === 'clock') {
    sink += clock.now() & 1;
  } else if (mode === 'lane') {
    sink += lane.fast;                                   // #hasSlot / #startWaiting / #fill
    if (lane.admits(dest, 1)) sink++;                    // #hasSlot
    const e = lane.begin(dest);                          // #start
    sink += lane.limited(perDomain).length; // #saturatedDomains (per claim round; counted per attempt)
    if (lane.end(e)) sink++;                             // the finally
  } else {
    sink += perDomain.size;                              // what #running.size read cost before (a Set size)
    sink += dest.length;
  }
}
lane.close();
if (sink === -1) console.log(sink);
