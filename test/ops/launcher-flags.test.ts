// The V8 flags (and any environment variables, such as GLIBC_TUNABLES) of the launcher's first line
// (bin/postlane.js) and of the systemd unit are the same: the unit runs `node <flags> bin/postlane.js`,
// which skips the shebang, so a setting changed in one place only would leave production on the old
// memory settings (docs/performance.md). And run as a program, the launcher really starts node with them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
// `env -S [NAME=value …] node --flag=value --flag …`; a value may end in `:${NAME}`, the operator's own after ours.
const SHEBANG = /^#!\/usr\/bin\/env -S((?: [A-Z_]+=\S+)*) node((?: --[\w-]+(?:=\S+)?)+)$/;

async function launcherLine(): Promise<{ vars: Map<string, string>; flags: string[] }> {
  const shebang = (await fs.readFile(path.join(ROOT, 'bin/postlane.js'), 'utf8')).split('\n')[0]!;
  const m = SHEBANG.exec(shebang);
  assert.ok(m, `the launcher's first line names its variables, node and its flags: ${shebang}`);
  const vars = new Map(m[1]!.trim().split(' ').filter(Boolean).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] as [string, string]));
  return { vars, flags: m[2]!.trim().split(' ') };
}

test('the systemd unit starts node with the launcher\'s V8 flags and variables', async () => {
  const { vars, flags } = await launcherLine();
  const unit = await fs.readFile(path.join(ROOT, 'contrib/systemd/postlane.service'), 'utf8');
  const exec = /^ExecStart=\S+\/node((?: --[\w-]+(?:=\S+)?)*) \S+\/bin\/postlane\.js start$/m.exec(unit);
  assert.ok(exec, 'ExecStart= runs node <flags> …/bin/postlane.js start');
  assert.deepEqual(exec[1]!.trim().split(' '), flags);
  for (const [name, value] of vars) {
    assert.deepEqual([...unit.matchAll(new RegExp(`^Environment=${name}=(\\S+)$`, 'gm'))].map((e) => e[1]), [value.replace(`:\${${name}}`, '')], name);
  }
});

test('run as a program, the launcher starts node with its flags and variables', async () => {
  const { vars, flags } = await launcherLine();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-launcher-flags-'));
  try {
    await fs.mkdir(path.join(dir, 'bin'));
    await fs.copyFile(path.join(ROOT, 'bin/postlane.js'), path.join(dir, 'bin/postlane.js'));
    await fs.chmod(path.join(dir, 'bin/postlane.js'), 0o755);
    await fs.writeFile(path.join(dir, 'package.json'), '{"type":"module"}');
    await fs.mkdir(path.join(dir, 'dist/src/cli'), { recursive: true });
    // Stands in for the CLI: reports what the process was started with.
    await fs.writeFile(path.join(dir, 'dist/src/cli/index.js'),
      `console.log(JSON.stringify({ env: Object.fromEntries(${JSON.stringify([...vars.keys()])}.map((n) => [n, process.env[n]])), execArgv: process.execArgv }));`);
    const env: Record<string, string | undefined> = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };
    for (const name of vars.keys()) delete env[name];
    const { stdout } = await run(path.join(dir, 'bin/postlane.js'), [], { env });
    const started = JSON.parse(stdout) as { env: Record<string, string>; execArgv: string[] };
    assert.deepEqual(started.execArgv, flags, 'the V8 flags of the first line');
    for (const [name, value] of vars) assert.equal(started.env[name], value.replace(`\${${name}}`, ''), name);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
