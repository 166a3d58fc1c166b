// Webhook replay on PostgreSQL (store/webhook-replay-store.ts), on the shared statement
// (sql/webhook-replay.ts), in the caller's transaction.
import { REPLAY_EVENT } from '../sql/webhook-replay.js';
import type { Conn } from './rows.js';

export async function replayWebhookEvents(c: Conn, account: string, webhookId: string, seqs: number[], now: number): Promise<number> {
  let n = 0;
  for (const seq of seqs) n += (await c.query(REPLAY_EVENT.text, [webhookId, account, seq, now])).rowCount ?? 0;
  return n;
}
