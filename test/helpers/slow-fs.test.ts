// The slow-disk library itself: a child process's fsync of a file under the directory is delayed
// (logged by the library) while the control file says so, a file elsewhere is not, and setting 0
// makes the disk fast again without restarting the process.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { skipUnless, TOOLS, toolPath } from './require-tool.js';
import { SlowFs } from './slow-fs.js';

const skip = await skipUnless(TOOLS.gcc);

// fsyncs the named file each time a line arrives on stdin, answering "ok" (no timing in the test).
const CHILD = `
const fs = require('node:fs');
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (file) => { const fd = fs.openSync(file, 'a'); fs.writeSync(fd, 'x'); fs.fsyncSync(fd); fs.fdatasyncSync(fd); fs.closeSync(fd); console.log('ok'); });
`;

test('slow-fs delays fsync and fdatasync under its directory only, switched at run time', { skip, timeout: 60_000 }, async (t) => {
  const disk = await SlowFs.create((await toolPath(TOOLS.gcc))!);
  t.after(() => disk.cleanup());
  const child = spawn(process.execPath, ['-e', CHILD], { env: { ...process.env, ...disk.env }, stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { child.kill(); });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const sync = async (file: string) => { child.stdin!.write(`${file}\n`); assert.equal((await lines.next()).value, 'ok'); };
  const inside = path.join(disk.dir, 'f');
  const outside = path.join(os.tmpdir(), `postlane-slowfs-outside-${process.pid}`);

  await sync(inside);
  assert.deepEqual(await disk.delayedCalls(), [], 'fast until set');
  await disk.set(20);
  await sync(inside);
  await sync(outside);
  assert.deepEqual((await disk.delayedCalls()).map((c) => [c.pid, c.call, c.ms]), [[child.pid, 'fsync', 20], [child.pid, 'fdatasync', 20]]);
  await disk.set(0);
  await sync(inside);
  assert.equal((await disk.delayedCalls()).length, 2, 'fast again without a restart');
  child.stdin!.end();
});
