// The V8 flags and the glibc malloc tunables of the launcher's first line (bin/postlane.js) and of
// the systemd unit are the same: the unit runs `node <flags> bin/postlane.js`, which skips the
// shebang, so a setting changed in one place only would leave production on the old memory
// settings (docs/performance.md). And run as a program, the launcher really starts node with them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const SHEBANG = /^#!\/usr\/bin\/env -S GLIBC_TUNABLES=(\S+):\$\{GLIBC_TUNABLES\} node((?: --[\w-]+=\S+)+)$/;

async function launcherLine(): Promise<{ tunables: string; flags: string[] }> {
  const shebang = (await fs.readFile(path.join(ROOT, 'bin/postlane.js'), 'utf8')).split('\n')[0]!;
  const m = SHEBANG.exec(shebang);
  assert.ok(m, `the launcher's first line sets GLIBC_TUNABLES (the operator's own after it) and names node and its flags: ${shebang}`);
  return { tunables: m[1]!, flags: m[2]!.trim().split(' ') };
}

test('the systemd unit starts node with the launcher\'s V8 flags and malloc tunables', async () => {
  const { tunables, flags } = await launcherLine();
  const unit = await fs.readFile(path.join(ROOT, 'contrib/systemd/postlane.service'), 'utf8');
  const exec = /^ExecStart=\S+\/node((?: --[\w-]+=\S+)*) \S+\/bin\/postlane\.js start$/m.exec(unit);
  assert.ok(exec, 'ExecStart= runs node <flags> …/bin/postlane.js start');
  assert.deepEqual(exec[1]!.trim().split(' '), flags);
  assert.deepEqual([...unit.matchAll(/^Environment=GLIBC_TUNABLES=(\S+)$/gm)].map((e) => e[1]), [tunables]);
});

test('run as a program, the launcher starts node with its flags and tunables, and an operator\'s GLIBC_TUNABLES wins', async () => {
  const { tunables, flags } = await launcherLine();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-launcher-flags-'));
  try {
    await fs.mkdir(path.join(dir, 'bin'));
    await fs.copyFile(path.join(ROOT, 'bin/postlane.js'), path.join(dir, 'bin/postlane.js'));
    await fs.chmod(path.join(dir, 'bin/postlane.js'), 0o755);
    await fs.writeFile(path.join(dir, 'package.json'), '{"type":"module"}');
    await fs.mkdir(path.join(dir, 'dist/src/cli'), { recursive: true });
    // Stands in for the CLI: reports what the process was started with.
    await fs.writeFile(path.join(dir, 'dist/src/cli/index.js'),
      'console.log(JSON.stringify({ tunables: process.env.GLIBC_TUNABLES ?? null, execArgv: process.execArgv }));');
    const env: Record<string, string | undefined> = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };
    delete env.GLIBC_TUNABLES;
    const started = async (extra: Record<string, string>) =>
      JSON.parse((await run(path.join(dir, 'bin/postlane.js'), [], { env: { ...env, ...extra } })).stdout) as { tunables: string; execArgv: string[] };

    const plain = await started({});
    assert.deepEqual(plain.execArgv, flags, 'the V8 flags of the first line');
    assert.equal(plain.tunables, `${tunables}:`, 'the tunables of the first line (an empty operator part)');
    const own = await started({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=8' });
    assert.equal(own.tunables, `${tunables}:glibc.malloc.arena_max=8`, 'the operator\'s setting comes last');

    // glibc itself reads them so: the last arena_max wins, and an empty trailing part is accepted.
    const loader = { x64: '/lib64/ld-linux-x86-64.so.2', arm64: '/lib/ld-linux-aarch64.so.1' }[process.arch as 'x64' | 'arm64'];
    if (loader && await fs.access(loader).then(() => true, () => false)) {
      const arenaMax = async (value: string) => /glibc\.malloc\.arena_max: (0x[0-9a-f]+)/.exec(
        (await run(loader, ['--list-tunables'], { env: { GLIBC_TUNABLES: value } })).stdout)?.[1];
      assert.equal(await arenaMax(plain.tunables), `0x${Number(/arena_max=(\d+)/.exec(tunables)![1]).toString(16)}`);
      assert.equal(await arenaMax(own.tunables), '0x8');
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
