// The slow-disk library itself: a child process's fsync and fdatasync of a file under the
// directory are delayed (logged by the library) while the control file says so, its writes only
// when asked, a file elsewhere never, and setting 0 makes the disk fast again without restarting
// the process.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
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
rl.on('line', (line) => {
  const [how, file] = line.split(' ');
  const fd = fs.openSync(file, 'a');
  if (how === 'write') fs.writeSync(fd, 'x'); else { fs.fsyncSync(fd); fs.fdatasyncSync(fd); }
  fs.closeSync(fd);
  console.log('ok');
});
`;

test('slow-fs delays fsync and fdatasync under its directory only, switched at run time', { skip, timeout: 60_000 }, async (t) => {
  const disk = await SlowFs.create((await toolPath(TOOLS.gcc))!);
  t.after(() => disk.cleanup());
  const child = spawn(process.execPath, ['-e', CHILD], { env: { ...process.env, ...disk.env }, stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { child.kill(); });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ask = async (how: 'sync' | 'write', file: string) => { child.stdin!.write(`${how} ${file}\n`); assert.equal((await lines.next()).value, 'ok'); };
  const sync = (file: string) => ask('sync', file);
  const inside = path.join(disk.dir, 'f');
  const outside = path.join(os.tmpdir(), `postlane-slowfs-outside-${process.pid}`);

  await sync(inside);
  assert.deepEqual(await disk.delayedCalls(), [], 'fast until set');
  await disk.set(20);
  await sync(inside);
  await sync(outside);
  assert.deepEqual((await disk.delayedCalls()).map((c) => [c.pid, c.call, c.ms]), [[child.pid, 'fsync', 20], [child.pid, 'fdatasync', 20]]);
  await ask('write', inside);
  assert.equal((await disk.delayedCalls()).length, 2, 'writes are not delayed unless asked');
  await disk.set({ syncMs: 0, writeMs: 5 });
  await ask('write', inside);
  await ask('write', outside);
  await sync(inside);
  assert.deepEqual((await disk.delayedCalls()).slice(2).map((c) => [c.call, c.ms]), [['write', 5]], 'a write under the directory, when asked');
  await disk.set(0);
  await sync(inside);
  await ask('write', inside);
  assert.equal((await disk.delayedCalls()).length, 3, 'fast again without a restart');
  child.stdin!.end();
});

// fsyncs the named file, answering "ok" or the error's code.
const SYNC_CHILD = `
const fs = require('node:fs');
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (file) => {
  const fd = fs.openSync(file, 'a');
  const codes = [];
  for (const sync of [fs.fsyncSync, fs.fdatasyncSync]) { try { sync(fd); codes.push('ok'); } catch (err) { codes.push(err.code); } }
  fs.closeSync(fd);
  console.log(codes.join(' '));
});
`;

test('slow-fs fails fsync and fdatasync with EIO for files under its directory whose path ends as asked', { skip, timeout: 60_000 }, async (t) => {
  const disk = await SlowFs.create((await toolPath(TOOLS.gcc))!);
  t.after(() => disk.cleanup());
  const child = spawn(process.execPath, ['-e', SYNC_CHILD], { env: { ...process.env, ...disk.env }, stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { child.kill(); });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const sync = async (file: string) => { child.stdin!.write(`${file}\n`); return (await lines.next()).value as string; };
  const wal = path.join(disk.dir, 'queue.db-wal');
  const db = path.join(disk.dir, 'queue.db');
  const outside = path.join(os.tmpdir(), `postlane-slowfs-outside-${process.pid}-wal`);
  t.after(() => rm(outside, { force: true }));
  assert.equal(await sync(wal), 'ok ok');
  await disk.set({ syncMs: 0, failSyncOf: '-wal' });
  assert.equal(await sync(wal), 'EIO EIO');
  assert.equal(await sync(db), 'ok ok', 'another file under the directory');
  assert.equal(await sync(outside), 'ok ok', 'a file elsewhere');
  assert.deepEqual((await disk.delayedCalls()).map((c) => [c.pid, c.call]), [[child.pid, 'fsync-eio'], [child.pid, 'fdatasync-eio']]);
  await disk.set(0);
  assert.equal(await sync(wal), 'ok ok', 'healthy again without a restart');
  child.stdin!.end();
});
