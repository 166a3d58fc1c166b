// startWorker: a worker's young generation at WORKER_SEMI_SPACE_MB under the launcher's larger flag; the main thread's untouched.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { semiSpaceFlagMb, WORKER_SEMI_SPACE_MB } from './worker-heap.js';

test('semiSpaceFlagMb: the command line over NODE_OPTIONS, null without the flag', () => {
  assert.equal(semiSpaceFlagMb(['--max-semi-space-size=2', '--heap-growing-percent=30'], ''), 2);
  assert.equal(semiSpaceFlagMb(['--max_semi_space_size=8'], '--max-semi-space-size=4'), 8);
  assert.equal(semiSpaceFlagMb([], '--max-semi-space-size=4 --max-old-space-size=512'), 4);
  assert.equal(semiSpaceFlagMb(['--heap-growing-percent=30'], ''), null);
});

// Each isolate fills its young generation with short-lived objects until it has grown to its
// largest, then reports the committed size of its new space (two semi-spaces).
const CHURN = 'let a = []; for (let i = 0; i < 3e6; i++) { a.push({ i }); if (a.length > 2000) a = []; }' +
  "const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space').physical_space_size;";
const IN_WORKER = `import v8 from 'node:v8'; import { parentPort } from 'node:worker_threads'; ${CHURN} parentPort.postMessage(s);`; // ESM, as the child's -e
const CHILD = `
import v8 from 'node:v8';
import { startWorker } from ${JSON.stringify(fileURLToPath(new URL('./worker-heap.js', import.meta.url)))};
const run = async () => {
  const w = startWorker(${JSON.stringify(IN_WORKER)}, { eval: true });
  const size = await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  await w.terminate();
  return size;
};
const first = await run();
const second = await run();
${CHURN}
console.log(JSON.stringify({ first, second, main: s }));
`;

test('startWorker: under --max-semi-space-size=2 a worker commits 2 × 1 MB of young generation, the main thread (and later workers) as before', () => {
  const out = JSON.parse(execFileSync(process.execPath, ['--max-semi-space-size=2', '--input-type=module', '-e', CHILD], { encoding: 'utf8' })) as
    { first: number; second: number; main: number };
  const MB = 1024 * 1024;
  assert.equal(WORKER_SEMI_SPACE_MB, 1);
  assert.ok(out.first <= 2 * MB, `worker new space ${out.first}`);
  assert.ok(out.second <= 2 * MB, `second worker new space ${out.second}: the flag given back after each start`);
  assert.equal(out.main, 4 * MB, 'the main isolate keeps 2 × 2 MB');
  const plain = JSON.parse(execFileSync(process.execPath, ['--max-semi-space-size=2', '--input-type=module', '-e',
    CHILD.replace('startWorker(', '((u, o) => new (require_worker())(u, o))(').replace("import v8 from 'node:v8';",
      "import v8 from 'node:v8'; import { Worker } from 'node:worker_threads'; const require_worker = () => Worker;")], { encoding: 'utf8' })) as
    { first: number };
  assert.equal(plain.first, 4 * MB, 'a plain Worker gets the flag\'s 2 × 2 MB (what startWorker changes)');
});
