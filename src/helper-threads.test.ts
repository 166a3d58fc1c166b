import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { lowerV8HelperPriority, v8HelperTids, v8PoolSize } from './helper-threads.js';

test('the helpers are the pool size of tids after the delayed-task thread, by rank (another process may take a tid between)', () => {
  assert.deepEqual(v8HelperTids(100, [107, 100, 101, 102, 103, 104, 105, 106, 130], 4), [102, 103, 104, 105]);
  assert.deepEqual(v8HelperTids(100, [100, 102, 103, 104, 105, 106, 107, 130], 4), [103, 104, 105, 106]);
  assert.deepEqual(v8HelperTids(100, [100, 101, 102, 103, 130], 2), [102, 103]);
  assert.deepEqual(v8HelperTids(100, [90, 100, 101, 102, 103, 104, 105], 4), []); // the tids wrapped: not Node's layout
  assert.deepEqual(v8HelperTids(100, [100, 101, 102], 4), []);
});

test('the pool size comes from the last --v8-pool-size flag; 0 or none is Node\'s 4', () => {
  assert.equal(v8PoolSize([]), 4);
  assert.equal(v8PoolSize(['--v8-pool-size=2']), 2);
  assert.equal(v8PoolSize(['--v8-pool-size=2', '--v8-pool-size=3']), 3);
  assert.equal(v8PoolSize(['--v8-pool-size=0']), 4);
});

test('on Linux the workers run 10 nice levels below the main thread, which keeps its own', { skip: process.platform !== 'linux' }, () => {
  const main = os.getPriority(process.pid);
  const changed = lowerV8HelperPriority();
  assert.equal(changed.length, v8PoolSize(process.execArgv));
  for (const tid of changed) {
    const nice = Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    assert.equal(nice, Math.min(19, main + 10));
  }
  assert.equal(os.getPriority(process.pid), main);
});
