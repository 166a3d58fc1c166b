import test from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from './events/log.js';
import { loadMallocTrim, startMallocTrim, TrimSchedule, type TrimResult } from './malloc-trim.js';

const MS = 1000; // process.cpuUsage() counts microseconds

test('the schedule trims only after enough CPU since the last trim, and never two at once', () => {
  const s = new TrimSchedule(5 * MS, 20);
  assert.equal(s.due(5 * MS), false, 'no work since start');
  assert.equal(s.due(24 * MS), false, '19 ms of CPU: idle');
  assert.equal(s.due(25 * MS), true, '20 ms: trim');
  assert.equal(s.due(200 * MS), false, 'the first is still running');
  s.finished();
  assert.equal(s.due(44 * MS), false, 'counted from the last trim\'s start: 19 ms since');
  assert.equal(s.due(45 * MS), true);
  s.finished();
  assert.equal(s.due(45 * MS), false, 'idle after the load: no more trims');
});

function capture() {
  const lines: { event?: string; [k: string]: unknown }[] = [];
  const out = new PassThrough();
  out.on('data', (d: Buffer) => { for (const l of d.toString().split('\n')) if (l) lines.push(JSON.parse(l)); });
  return { lines, logger: createLogger('debug', out) };
}

async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), what);
}

test('without the addon the trimmer does nothing and says so at debug level', () => {
  const { lines, logger } = capture();
  const t = startMallocTrim({ logger, trim: null });
  assert.equal(t.active, false);
  t.stop();
  return until(() => lines.some((l) => l.event === 'memory.trim_unavailable'), 'logged');
});

test('the timer trims while the process works, one call at a time, and stops after a failure', async () => {
  const { lines, logger } = capture();
  let cpu = 0;
  let calls = 0;
  const pending: ((r: TrimResult) => void)[] = [];
  let fail = false;
  const trim = () => {
    calls++;
    if (fail) return Promise.reject(new Error('boom'));
    return new Promise<TrimResult>((resolve) => pending.push(resolve));
  };
  const t = startMallocTrim({ logger, trim, intervalMs: 2, minCpuMs: 20, cpuMicros: () => cpu });
  try {
    assert.equal(t.active, true);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(calls, 0, 'idle: no trim');
    cpu += 20 * MS;
    await until(() => calls === 1, 'a trim after 20 ms of CPU');
    cpu += 100 * MS;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(calls, 1, 'not while the first runs');
    pending.shift()!({ released: true, micros: 123.4 });
    await until(() => calls === 2, 'the next look after it finished');
    await until(() => lines.some((l) => l.event === 'memory.trimmed' && l.micros === 123 && l.released === true), 'each trim logged at debug level');
    fail = true;
    pending.shift()!({ released: false, micros: 1 });
    cpu += 20 * MS;
    await until(() => calls === 3, 'a third trim');
    await until(() => lines.some((l) => l.event === 'memory.trim_failed'), 'its failure logged');
    cpu += 100 * MS;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(calls, 3, 'no call after a failure');
  } finally {
    t.stop();
  }
});

test('loading the addon never throws: a function where it is built, else null', () => {
  const trim = loadMallocTrim();
  assert.ok(trim === null || typeof trim === 'function');
});
