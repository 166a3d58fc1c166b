// The webhook replay statement (store/webhook-replay-store.ts), shared by both stores (see
// dialect.ts): $1 webhook id, $2 account, $3 event seq, $4 now. Nothing is inserted unless the
// webhook and the event both belong to the account.
import { shared } from './dialect.js';

export const REPLAY_EVENT = shared(`INSERT INTO webhook_delivery (webhook_id, event_seq, next_attempt_at)
  SELECT w.id, e.seq, CAST($4 AS bigint) FROM webhook w JOIN event e ON e.account = w.account
  WHERE w.id = $1 AND w.account = $2 AND e.seq = $3
  ON CONFLICT (webhook_id, event_seq) DO UPDATE SET next_attempt_at = excluded.next_attempt_at, attempts = 0`);
