// contrib/systemd/postlane.service is a unit systemd accepts without a single warning (an unknown
// or misspelled directive is only a warning for systemd, so stderr must be empty), and its
// sandboxing keeps the exposure rating low. Needs `systemd-analyze` (Debian package `systemd`):
// skipped with a message where it is missing, a failure under CI=true.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const UNIT = path.join(ROOT, 'contrib/systemd/postlane.service');

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, SYSTEMD_LOG_COLOR: '0', LC_ALL: 'C' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 127) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function systemdAnalyze(t: TestContext): Promise<string | null> {
  const found = await run('/bin/sh', ['-c', 'command -v systemd-analyze']);
  if (found.code === 0) return found.stdout.trim();
  if (process.env.CI === 'true') assert.fail('systemd-analyze is required under CI: install the Debian package "systemd"');
  t.skip('systemd-analyze not found (Debian package "systemd"): the unit is not checked');
  return null;
}

/** A copy of the unit to check; ExecStart points at this machine's node when it is not /usr/bin/node (verify checks it exists). */
async function unitCopy(t: TestContext): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-unit-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  let text = await fs.readFile(UNIT, 'utf8');
  const hasUsrBinNode = await fs.access('/usr/bin/node').then(() => true, () => false);
  if (!hasUsrBinNode) text = text.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `);
  const copy = path.join(dir, 'postlane.service');
  await fs.writeFile(copy, text);
  return copy;
}

test('the systemd unit: the hardening the operations guide promises', async () => {
  const text = await fs.readFile(UNIT, 'utf8');
  const directives = new Map(text.split('\n').filter((l) => /^[A-Za-z]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const expected: Record<string, string> = {
    User: 'postlane', AmbientCapabilities: 'CAP_NET_BIND_SERVICE', CapabilityBoundingSet: 'CAP_NET_BIND_SERVICE', NoNewPrivileges: 'yes',
    ProtectSystem: 'strict', ReadWritePaths: '/var/lib/postlane', StateDirectory: 'postlane', PrivateTmp: 'yes', ProtectHome: 'yes',
    RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX', SystemCallFilter: '@system-service', Restart: 'on-failure', KillSignal: 'SIGTERM',
  };
  for (const [key, value] of Object.entries(expected)) assert.equal(directives.get(key), value, key);
  assert.ok(!directives.has('MemoryDenyWriteExecute'), 'V8 needs W+X memory');
});

test('systemd-analyze verify accepts the unit without a warning', async (t) => {
  const analyze = await systemdAnalyze(t);
  if (!analyze) return;
  const r = await run(analyze, ['verify', await unitCopy(t)]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings (an unknown directive is only a warning)');
});

test('systemd-analyze security rates the unit OK (exposure at most 3.0 of 10)', async (t) => {
  const analyze = await systemdAnalyze(t);
  if (!analyze) return;
  const r = await run(analyze, ['security', '--offline=yes', '--threshold=30', await unitCopy(t)]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /Overall exposure level for postlane\.service: [0-2]\.\d/);
});
