// bin/postlane.js runs dist/bundle (scripts/bundle.mjs, built by `npm run build` and `npm test`)
// unless POSTLANE_BUNDLE=0 asks for dist/src, and only while none of the tsc outputs it was made
// from (dist/bundle/inputs.json) is newer, else dist/src: neither a tsc rebuild nor a `tsc -w` that
// rewrote one module runs a stale bundle. Only an explicit POSTLANE_BUNDLE=1 warns when it cannot.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BIN, RelayProcess } from '../helpers/relay-process.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

test('the launcher runs the bundle unless told not to, and only while none of its tsc inputs is newer', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-launcher-'));
  try {
    await fs.mkdir(path.join(dir, 'bin'));
    await fs.copyFile(BIN, path.join(dir, 'bin/postlane.js'));
    await fs.writeFile(path.join(dir, 'package.json'), '{"type":"module"}');
    const src = path.join(dir, 'dist/src/cli/index.js');
    const other = path.join(dir, 'dist/src/store/other.js');
    const bundle = path.join(dir, 'dist/bundle/cli.js');
    await fs.mkdir(path.dirname(other), { recursive: true });
    await fs.mkdir(path.dirname(src), { recursive: true });
    // Each prints whether the launcher's variable reached it (the configuration refuses unknown POSTLANE_* names).
    const says = (who: string) => `console.log(process.env.POSTLANE_BUNDLE === undefined ? '${who}' : '${who}, with POSTLANE_BUNDLE left set');`;
    await fs.writeFile(src, says('src'));
    await fs.writeFile(other, '');
    const which = async (env: Record<string, string> = { POSTLANE_BUNDLE: '1' }) => {
      const r = await run(process.execPath, [path.join(dir, 'bin/postlane.js')], { env: { ...process.env, ...env } });
      return `${r.stdout.trim()}${r.stderr.includes('dist/bundle is missing or older') ? ' (warned)' : ''}`;
    };

    assert.equal(await which(), 'src (warned)', 'asked for, but no bundle');
    assert.equal(await which({}), 'src', 'the default, no bundle: dist/src without a warning');
    await fs.mkdir(path.dirname(bundle), { recursive: true });
    await fs.writeFile(bundle, says('bundle'));
    const t = new Date();
    for (const f of [src, other, bundle]) await fs.utimes(f, t, t);
    assert.equal(await which(), 'src (warned)', 'a bundle without its list of inputs is not trusted');
    await fs.writeFile(path.join(dir, 'dist/bundle/inputs.json'), JSON.stringify(['dist/src/cli/index.js', 'dist/src/store/other.js']));
    assert.equal(await which(), 'bundle', 'POSTLANE_BUNDLE=1 and the bundle built after tsc');
    assert.equal(await which({}), 'bundle', 'the default: the bundle');
    assert.equal(await which({ POSTLANE_BUNDLE: '0' }), 'src', 'POSTLANE_BUNDLE=0: dist/src');
    const later = new Date(t.getTime() + 5000);
    await fs.utimes(other, later, later);
    assert.equal(await which(), 'src (warned)', 'tsc -w rewrote one module after the bundle was built: the bundle is stale');
    assert.equal(await which({}), 'src', 'the default with a stale bundle: dist/src, quietly (a developer\'s tsc -w)');
    await fs.utimes(other, t, t);
    await fs.rm(other);
    assert.equal(await which(), 'src (warned)', 'an input is gone: the bundle is stale');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the bundle reads files next to the original modules, starts its own store worker and heavy-read thread', async (t) => {
  const cli = path.join(ROOT, 'dist/bundle/cli.js');
  const stat = await fs.stat(cli).catch(() => null);
  if (!stat) return t.skip('no dist/bundle (npm run build makes it)');
  const { version } = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  // version.ts reads ../../../package.json relative to its own dist/src location
  assert.equal((await run(process.execPath, [cli, '--version'])).stdout.trim(), version);
  // The configuration refuses unknown POSTLANE_* variables: the launcher removes its own.
  const viaBundle = await run(process.execPath, [BIN, 'config'], { cwd: os.tmpdir(), env: { ...process.env, POSTLANE_BUNDLE: '1' } })
    .catch((e: { stdout: string; stderr: string }) => e);
  assert.equal(String(viaBundle.stderr), '', 'the bundle is current and the variable is not taken for a configuration key');
  assert.match(String(viaBundle.stdout), /^# effective configuration/m, 'POSTLANE_BUNDLE=1 postlane config works');
  const chunks = await fs.readdir(path.dirname(cli));
  assert.ok(chunks.includes('sqlite-worker.js'), 'the store\'s database thread');
  const inputs = JSON.parse(await fs.readFile(path.join(path.dirname(cli), 'inputs.json'), 'utf8')) as string[];
  assert.ok(inputs.includes('dist/src/cli/index.js') && inputs.includes('dist/src/store/sqlite/worker.js') && inputs.includes('dist/src/store/sqlite/executor.js'),
    'the inputs list names tsc\'s outputs');
  const all = chunks.filter((f) => f.endsWith('.js')).map((f) => path.join(path.dirname(cli), f));
  const texts = await Promise.all(all.map((f) => fs.readFile(f, 'utf8')));
  assert.ok(texts.some((s) => s.includes('new URL(`./sqlite-worker.js`,import.meta.url)')), 'the worker client starts the bundled worker');
  assert.ok(!texts.some((s) => /\.\.\/src\/store\//.test(s)), 'nothing of dist/src/store loaded by path (not the worker of dist/src)');
  // the heavy-read thread of an in-process executor (store/sqlite/reader-thread.ts) is bundled and started from the bundle
  assert.ok(chunks.includes('sqlite-reader.js'));
  assert.ok(inputs.includes('dist/src/store/sqlite/reader-worker.js'));
  assert.ok(texts.some((s) => s.includes('new URL(`./sqlite-reader.js`,import.meta.url)')), 'the bundle starts the bundled reader thread');
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-bundle-reader-'));
  t.after(() => fs.rm(dataDir, { recursive: true, force: true }));
  for (const bundled of ['1', '0']) { // the CLI's in-process executor: a queue listing (a heavy read) runs on its own thread, no reader thread
    const listed = await run(process.execPath, [BIN, 'queue', 'list', '--all', '--json'], { cwd: os.tmpdir(), env: { ...process.env, POSTLANE_BUNDLE: bundled, POSTLANE_DATA_DIR: dataDir } })
      .catch((e: { stdout: string; stderr: string }) => e);
    assert.equal(String(listed.stderr), '', `POSTLANE_BUNDLE=${bundled}: the listing ran`);
    assert.equal(String(listed.stdout), '[]\n');
  }
  for (const bundled of ['1', '0']) { // the relay with storage.sqliteThread: main: /metrics' first scrape counts the finished recipients (a heavy read): the reader thread starts
    const relay = await RelayProcess.create({
      storage: { sqliteThread: 'main' },
      smtp: { submission: { host: '127.0.74.1' }, submissions: { host: '127.0.74.1' }, mx: { host: '127.0.74.1' } },
      http: { host: '127.0.74.1' }, metrics: { host: '127.0.74.1' },
    });
    t.after(() => relay.cleanup());
    relay.env = { POSTLANE_BUNDLE: bundled };
    await relay.start();
    const pid = relay.child!.pid!;
    const threads = async () => (await fs.readdir(`/proc/${pid}/task`)).length;
    const before = await threads();
    const res = await fetch(`http://127.0.74.1:${relay.port('metrics')}/metrics`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(text, /^postlane_queue_depth\{/m, `POSTLANE_BUNDLE=${bundled}: the finished were counted (on the reader thread)`);
    assert.ok(await threads() > before, `POSTLANE_BUNDLE=${bundled}: a thread more (the reader thread, until it is idle)`);
    await relay.cleanup();
  }
});
