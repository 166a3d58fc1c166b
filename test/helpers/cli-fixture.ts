// What CLI tests run against a RelayProcess's config: the command (`cli`), the command that must
// succeed (`ok`, failing the test with its stderr otherwise), and the relay's own SQLite store
// opened in the test process for what the CLI cannot show.
import assert from 'node:assert/strict';
import path from 'node:path';
import { pino } from 'pino';
import { SqliteQueueStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RelayProcess } from './relay-process.js';

export function cliFixture(relay: () => RelayProcess) {
  const cli = async (...args: string[]) => relay().cli(args);
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const withStore = async <T>(fn: (s: SqliteQueueStore) => Promise<T>) => {
    const store = new SqliteQueueStore({ dataDir: path.join(relay().dir, 'data'), logger: pino({ level: 'silent' }) });
    await store.open();
    try { return await fn(store); } finally { await store.close(); }
  };
  return { cli, ok, withStore };
}
