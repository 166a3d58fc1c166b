// The V8 flags of the launcher's first line (bin/postlane.js) and of the systemd unit's ExecStart=
// are the same: the unit runs `node <flags> bin/postlane.js`, which skips the shebang, so a flag
// changed in one place only would leave production on the old memory settings (docs/performance.md).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

test('the systemd unit starts node with the launcher\'s V8 flags', async () => {
  const shebang = (await fs.readFile(path.join(ROOT, 'bin/postlane.js'), 'utf8')).split('\n')[0]!;
  const m = /^#!\/usr\/bin\/env -S node((?: --[\w-]+=\S+)+)$/.exec(shebang);
  assert.ok(m, `the launcher's first line names node and its flags: ${shebang}`);
  const unit = await fs.readFile(path.join(ROOT, 'contrib/systemd/postlane.service'), 'utf8');
  const exec = /^ExecStart=\S+\/node((?: --[\w-]+=\S+)*) \S+\/bin\/postlane\.js start$/m.exec(unit);
  assert.ok(exec, 'ExecStart= runs node <flags> …/bin/postlane.js start');
  assert.deepEqual(exec[1]!.trim().split(' '), m[1]!.trim().split(' '));
});
