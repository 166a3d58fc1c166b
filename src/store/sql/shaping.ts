// The traffic-shaping statements shared by both stores (see dialect.ts; interface: ../shaping-store.ts).
import { shared } from './dialect.js';

/** Upsert a suspension; the stored one stays when it ends later. */
export const RECORD_SUSPENSION = shared(`INSERT INTO provider_suspension (provider, source, suspended_until, reason, updated_at)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (provider, source) DO UPDATE SET suspended_until = excluded.suspended_until, reason = excluded.reason, updated_at = excluded.updated_at
  WHERE excluded.suspended_until > provider_suspension.suspended_until`);

export const LIST_SUSPENSIONS = shared(`SELECT provider, source, suspended_until, reason, updated_at FROM provider_suspension
  WHERE suspended_until > $1 ORDER BY provider, source`);

export interface SuspensionRow { provider: string; source: string; suspended_until: number | string; reason: string; updated_at: number | string }

export const toSuspension = (r: SuspensionRow) =>
  ({ provider: r.provider, source: r.source, until: Number(r.suspended_until), reason: r.reason, at: Number(r.updated_at) });
