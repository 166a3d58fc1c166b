// The executor's connections: the writer keeps temporary data (the savepoints' sub-journal of every
// group commit) in memory instead of temp files; the reader keeps SQLite's default.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_BREAKER_POLICY } from '../breaker-rules.js';
import { DEFAULT_SOFT_BOUNCE_POLICY } from '../event-effects.js';
import { openConnections, READER_CACHE_KIB, WRITER_CACHE_KIB } from './connections.js';

test('connections: the writer has temp_store = MEMORY (2), the reader the default (0); both caches bounded', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-conns-'));
  try {
    const { writer, reader } = openConnections({
      dbPath: path.join(dir, 'queue.db'), spoolDir: dir, sweepOrphans: false, orphanAgeMs: 0,
      softBounces: DEFAULT_SOFT_BOUNCE_POLICY, breakers: DEFAULT_BREAKER_POLICY,
    });
    try {
      assert.equal(writer.pragma('temp_store', { simple: true }), 2);
      assert.equal(reader.pragma('temp_store', { simple: true }), 0);
      assert.equal(writer.pragma('journal_mode', { simple: true }), 'wal');
      // not better-sqlite3's 16 MB default (-16000): each cache is bounded to a few MB
      assert.equal(writer.pragma('cache_size', { simple: true }), -WRITER_CACHE_KIB);
      assert.equal(reader.pragma('cache_size', { simple: true }), -READER_CACHE_KIB);
    } finally { reader.close(); writer.close(); }
  } finally { await fs.rm(dir, { recursive: true, force: true }); }
});
