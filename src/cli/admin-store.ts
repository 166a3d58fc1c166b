// Opens the queue store for one admin command and closes it afterwards.
import type { Config } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../events/log.js';
import { openStore } from '../store/open-store.js';
import { Option } from 'commander';
import { RelayError } from '../errors.js';
import type { QueueStore } from '../store/store.js';

export async function withStore<T>(configFile: string | undefined, fn: (store: QueueStore, config: Readonly<Config>) => Promise<T>): Promise<T> {
  const config = loadConfig({ file: configFile });
  const store = await openStore(config, createLogger('warn', process.stderr), 'admin');
  await store.open();
  try { return await fn(store, config); } finally { await store.close(); }
}

export const configOption = () =>
  new Option('-c, --config <file>', 'YAML configuration file (default: $POSTLANE_CONFIG, else ./postlane.yaml if present)');

/** The value of a `--limit <n>` option: a positive integer, else a usage error naming the option. */
export function positiveLimit(raw: string | number): number {
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new RelayError('ERR_USAGE', '--limit must be a positive integer');
  return n;
}
