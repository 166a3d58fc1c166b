// Provider suspensions on PostgreSQL, shared by every node (interface: ../shaping-store.ts, SQL: ../sql/shaping.ts).
import type { ProviderSuspension } from '../shaping-store.js';
import { LIST_SUSPENSIONS, RECORD_SUSPENSION, toSuspension, type SuspensionRow } from '../sql/shaping.js';
import type { Conn } from './rows.js';

export async function recordSuspension(c: Conn, s: ProviderSuspension): Promise<void> {
  await c.query(RECORD_SUSPENSION.text, [s.provider, s.source, s.until, s.reason, s.at]);
}

export async function listSuspensions(c: Conn, now: number): Promise<ProviderSuspension[]> {
  return (await c.query<SuspensionRow>(LIST_SUSPENSIONS.text, [now])).rows.map(toSuspension);
}
