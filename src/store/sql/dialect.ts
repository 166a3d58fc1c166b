// Queries written once for both stores. The text is PostgreSQL's ($1, $2… parameters, CAST(… AS
// text) rather than ::text); the SQLite store runs the same text with the parameters renamed to
// @p1, @p2… (better-sqlite3 binds named parameters from an object, so a parameter may be used more
// than once). Only statements both dialects accept belong here: array parameters, DML in CTEs and
// json operators differ, and stay in each store's own module.
export interface SharedQuery { readonly text: string; readonly sqlite: string }

export const shared = (text: string): SharedQuery => ({ text, sqlite: text.replace(/\$(\d+)/g, '@p$1') });

/** The SQLite binding of positional values: { p1: v1, p2: v2, … } (booleans as 0/1). */
export function sqliteArgs(values: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  values.forEach((v, i) => { out[`p${i + 1}`] = typeof v === 'boolean' ? (v ? 1 : 0) : v; });
  return out;
}
