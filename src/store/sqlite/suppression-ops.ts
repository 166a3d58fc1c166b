// The executor's suppression-list operations (store/suppression-store.ts). The statements are the
// shared ones of store/sql/suppressions.ts; only the many-address lookup is SQLite's own (json_each).
import { INSERT_SECRET, RETIRE_SECRETS, SELECT_SECRETS } from '../sql/secrets.js';
import {
  DELETE_ENTRIES, INSERT_KEEP, INSERT_REPLACE, LIST, LIST_ONE, SUPPRESSION_COLUMNS, insertValues, listValues, toSuppression, type SuppressionRow,
} from '../sql/suppressions.js';
import { strongest, suppressionKey, type Suppression, type SuppressionQuery, type SuppressionScope } from '../suppression-store.js';
import { requireAccount } from './account-ops.js';
import { all, run, sql, type Db, type Effects } from './rows.js';

/** Inserts entries in the current transaction (the event log's effects call it too); returns rows changed. */
export function insertSuppressions(db: Db, entries: Suppression[], replace: boolean): number {
  let n = 0;
  for (const e of entries) n += run(db, replace ? INSERT_REPLACE : INSERT_KEEP, insertValues(e)).changes;
  return n;
}

export const SUPPRESSION_WRITES = {
  addSuppressions(db: Db, _fx: Effects, entries: Suppression[], opts: { replace?: boolean } = {}): number {
    for (const account of new Set(entries.map((e) => e.account))) requireAccount(db, account);
    return insertSuppressions(db, entries, opts.replace === true);
  },
  removeSuppression(db: Db, _fx: Effects, account: string, address: string, scope: SuppressionScope | null = null): number {
    return run(db, DELETE_ENTRIES, [account, suppressionKey(address), scope]).changes;
  },
};

export const SUPPRESSION_READS = {
  listSuppressions(db: Db, q: SuppressionQuery): Suppression[] {
    return all<SuppressionRow>(db, q.address ? LIST_ONE : LIST, listValues(q)).map(toSuppression);
  },
  findSuppressions(db: Db, account: string, stream: string, addresses: string[]): Map<string, Suppression> {
    return strongest(findIn(db, account, stream, addresses));
  },
};

/** The entries stopping `stream` mail to any of `addresses` (normalized here). */
export function findIn(db: Db, account: string, stream: string, addresses: string[]): Suppression[] {
  if (addresses.length === 0) return [];
  // One address (most mail, looked up with every claimed job): a plain equality, where the list
  // form materialises json_each into two temporary b-trees each time (bench/README.md, thirteenth session).
  const rows = addresses.length === 1
    ? sql(db, `SELECT ${SUPPRESSION_COLUMNS} FROM suppression WHERE account = ? AND address = ? AND scope IN ('all', ?)`)
      .all(account, suppressionKey(addresses[0]!), stream) as SuppressionRow[]
    : sql(db, `SELECT ${SUPPRESSION_COLUMNS} FROM suppression
                        WHERE account = ? AND address IN (SELECT value FROM json_each(?)) AND scope IN ('all', ?)`)
      .all(account, JSON.stringify(addresses.map(suppressionKey)), stream) as SuppressionRow[];
  return rows.map(toSuppression);
}

// The installation secrets (store/secret-store.ts), on the same shared-statement runner.
export const SECRET_WRITES = {
  addSecret(db: Db, _fx: Effects, purpose: string, secret: Uint8Array, createdAt: number, retireBefore: number): void {
    run(db, INSERT_SECRET, [purpose, createdAt, Buffer.from(secret)]);
    run(db, RETIRE_SECRETS, [purpose, retireBefore]);
  },
};
export const SECRET_READS = {
  getSecrets(db: Db, purpose: string): Uint8Array[] {
    return all<{ secret: Uint8Array }>(db, SELECT_SECRETS, [purpose]).map((r) => r.secret);
  },
};
