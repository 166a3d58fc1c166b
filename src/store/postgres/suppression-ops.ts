// Suppression-list operations on PostgreSQL (store/suppression-store.ts). The statements are the
// shared ones of store/sql/suppressions.ts; only the many-address lookup is PostgreSQL's own (ANY).
import {
  DELETE_ENTRIES, INSERT_KEEP, INSERT_REPLACE, LIST, LIST_ONE, SUPPRESSION_COLUMNS, insertValues, listValues, toSuppression, type SuppressionRow,
} from '../sql/suppressions.js';
import { strongest, suppressionKey, type Suppression, type SuppressionQuery, type SuppressionScope } from '../suppression-store.js';
import { requireAccount } from './account-ops.js';
import type { Conn } from './rows.js';

/** Inserts entries in the caller's transaction (the event log's effects call it too); returns rows changed. */
export async function insertSuppressions(c: Conn, entries: Suppression[], replace: boolean): Promise<number> {
  let n = 0;
  for (const e of entries) n += (await c.query(replace ? INSERT_REPLACE.text : INSERT_KEEP.text, insertValues(e))).rowCount ?? 0;
  return n;
}

export async function addSuppressions(c: Conn, entries: Suppression[], opts: { replace?: boolean } = {}): Promise<number> {
  for (const account of new Set(entries.map((e) => e.account))) await requireAccount(c, account);
  return insertSuppressions(c, entries, opts.replace === true);
}

export async function removeSuppression(c: Conn, account: string, address: string, scope: SuppressionScope | null = null): Promise<number> {
  return (await c.query(DELETE_ENTRIES.text, [account, suppressionKey(address), scope])).rowCount ?? 0;
}

export async function listSuppressions(c: Conn, q: SuppressionQuery): Promise<Suppression[]> {
  return (await c.query<SuppressionRow>((q.address ? LIST_ONE : LIST).text, listValues(q))).rows.map(toSuppression);
}

export async function findSuppressions(c: Conn, account: string, stream: string, addresses: string[]): Promise<Map<string, Suppression>> {
  return strongest(await findIn(c, [account], stream, [addresses]));
}

/**
 * The entries stopping `stream` mail, for several accounts at once: `addresses[i]` are looked up
 * in `accounts[i]` (claimDue asks once for every job it leased). One statement.
 */
export async function findIn(c: Conn, accounts: string[], stream: string | null, addresses: string[][]): Promise<Suppression[]> {
  const pairs = accounts.flatMap((a, i) => addresses[i]!.map((addr) => [a, suppressionKey(addr)] as const));
  if (pairs.length === 0) return [];
  const { rows } = await c.query<SuppressionRow>(
    `SELECT ${SUPPRESSION_COLUMNS} FROM suppression
     WHERE (account, address) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND (CAST($3 AS text) IS NULL OR scope IN ('all', $3))`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1]), stream]);
  return rows.map(toSuppression);
}
