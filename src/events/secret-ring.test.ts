// SecretRing against a real SQLite store: the first open creates the installation's secret, a
// second process reads the same one, a rotation is seen after refresh with the old one still
// verifying, and secrets past the grace period after their successor are retired.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { SqliteQueueStore } from '../store/sqlite/sqlite-store.js';
import { rotateSecret, SecretRing, SECRET_GRACE_MS } from './secret-ring.js';

test('secrets: created once, shared, rotated with a grace period, then retired', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-secrets-'));
  const clock = { t: 1_700_000_000_000, now() { return this.t; } };
  const a = new SqliteQueueStore({ dataDir: dir, logger: pino({ level: 'silent' }) });
  await a.open();
  try {
    const ring = await SecretRing.open(a, 'bounce', clock);
    assert.equal(ring.all().length, 1);
    assert.equal(ring.current().length, 32);
    const again = await SecretRing.open(a, 'bounce', clock);
    assert.deepEqual(again.current(), ring.current(), 'a second process gets the same secret');
    const links = await SecretRing.open(a, 'links', clock);
    assert.notDeepEqual(links.current(), ring.current(), 'one secret per purpose');
    const first = ring.current();
    clock.t += 1000;
    await rotateSecret(a, 'bounce', clock);
    await ring.refresh();
    assert.equal(ring.all().length, 2);
    assert.notDeepEqual(ring.current(), first);
    assert.deepEqual(ring.all()[1], first, 'the previous secret still verifies');
    clock.t += SECRET_GRACE_MS + 1000;
    await rotateSecret(a, 'bounce', clock);
    await ring.refresh();
    assert.equal(ring.all().length, 2, 'the first secret is retired once its successor is past the grace period');
    assert.ok(!ring.all().some((s) => s.equals(first)));
  } finally {
    await a.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
