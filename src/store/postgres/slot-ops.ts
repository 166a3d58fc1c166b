// Destination slots on PostgreSQL (table destination_slot, migration v3): the cluster-wide
// per-destination connection limit. A slot row is leased by one node at a time; acquiring locks
// candidate rows FOR UPDATE SKIP LOCKED (concurrent acquirers take different slots or none, never
// the same one), renewal extends every row an owner still holds in one statement, and a dead
// node's rows become free when their lease ends. Also unclaimJobs: claimed jobs given back unstarted.
import { mergeRequests } from '../in-process-slots.js';
import type { AcquireSlotsOptions, DestinationSlot } from '../store.js';
import type { Conn } from './rows.js';

/** Slot rows are created on first use of a destination (and when the limit grows). */
const ENSURE_ROWS = `INSERT INTO destination_slot (destination, slot)
                     SELECT d, s FROM unnest($1::text[]) AS d, generate_series(0, $2::int - 1) AS s
                     ON CONFLICT DO NOTHING`;

/** Free or expired slots below the limit, locked (others' locks skipped), the first `want` per destination taken. */
const ACQUIRE = `WITH free AS (
                   SELECT destination, slot FROM destination_slot
                   WHERE destination = ANY($1::text[]) AND slot < $3 AND (owner IS NULL OR lease_until < $4)
                   FOR UPDATE SKIP LOCKED),
                 ranked AS (
                   SELECT destination, slot, row_number() OVER (PARTITION BY destination ORDER BY slot) AS n FROM free),
                 want AS (SELECT * FROM unnest($1::text[], $2::int[]) AS w(destination, k))
                 UPDATE destination_slot t SET owner = $5, lease_until = $6
                 FROM ranked r JOIN want w ON w.destination = r.destination
                 WHERE t.destination = r.destination AND t.slot = r.slot AND r.n <= w.k
                 RETURNING t.destination, t.slot`;

/** Runs inside the caller's transaction. */
export async function acquireSlots(c: Conn, o: AcquireSlotsOptions): Promise<DestinationSlot[]> {
  const wants = mergeRequests(o.requests);
  if (wants.size === 0 || !(o.limit > 0)) return [];
  const destinations = [...wants.keys()];
  await c.query(ENSURE_ROWS, [destinations, o.limit]);
  const { rows } = await c.query<DestinationSlot>(ACQUIRE,
    [destinations, [...wants.values()], o.limit, o.now, o.owner, o.now + o.leaseMs]);
  return rows;
}

export async function renewSlots(c: Conn, o: { owner: string; now: number; leaseMs: number }): Promise<DestinationSlot[]> {
  const { rows } = await c.query<DestinationSlot>(
    'UPDATE destination_slot SET lease_until = $2 WHERE owner = $1 RETURNING destination, slot', [o.owner, o.now + o.leaseMs]);
  return rows;
}

export async function releaseSlots(c: Conn, owner: string, slots?: DestinationSlot[]): Promise<number> {
  const r = slots
    ? await c.query(`UPDATE destination_slot SET owner = NULL, lease_until = 0
                     WHERE owner = $1 AND (destination, slot) IN (SELECT * FROM unnest($2::text[], $3::int[]))`,
      [owner, slots.map((s) => s.destination.toLowerCase()), slots.map((s) => s.slot)])
    : await c.query('UPDATE destination_slot SET owner = NULL, lease_until = 0 WHERE owner = $1', [owner]);
  return r.rowCount ?? 0;
}

/** Back to waiting with the due time they had (so they keep their place), or `dueAt` if later; the lease is dropped. */
export async function unclaimJobs(c: Conn, owner: string, jobs: { messageId: string; domain: string }[], now: number, dueAt = 0): Promise<number> {
  if (jobs.length === 0) return 0;
  const r = await c.query(`UPDATE recipient SET state = CASE WHEN attempts > 0 THEN 'deferred' ELSE 'queued' END, next_attempt_at = GREATEST(COALESCE(next_attempt_at, $2), $5),
                             lease_owner = NULL, lease_until = NULL, updated_at = $2
                           WHERE state = 'delivering' AND lease_owner = $1
                             AND (message_id, domain) IN (SELECT * FROM unnest($3::text[], $4::text[]))`,
  [owner, now, jobs.map((j) => j.messageId), jobs.map((j) => j.domain), dueAt]);
  return r.rowCount ?? 0;
}
