import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreateTls } from './certificates.js';

const require = createRequire(import.meta.url);
const selfsignedLoadedHere = () => Object.keys(require.cache).some((k) => k.includes(`${path.sep}node_modules${path.sep}selfsigned${path.sep}`));

test('first start: a self-signed certificate made in a thread of its own, stored, then read back', async () => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-tls-'));
  try {
    const cfg = { hostname: 'relay.example', dataDir, tls: { cert: null, key: null } };
    const made = await loadOrCreateTls(cfg);
    assert.equal(made.generated, true);
    const x = new X509Certificate(made.cert);
    assert.match(x.subject, /CN=relay\.example/);
    assert.match(x.subjectAltName ?? '', /DNS:relay\.example/);
    assert.ok(x.checkPrivateKey((await import('node:crypto')).createPrivateKey(made.key)));
    // selfsigned and its x509 stack never loaded in this (the relay's main) thread
    assert.equal(selfsignedLoadedHere(), false);
    const st = await fs.stat(path.join(dataDir, 'tls', 'key.pem'));
    assert.equal(st.mode & 0o777, 0o600);
    const again = await loadOrCreateTls(cfg);
    assert.deepEqual(again, { cert: made.cert, key: made.key, generated: false });
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
});
