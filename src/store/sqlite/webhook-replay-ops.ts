// The executor's webhook replay (store/webhook-replay-store.ts) on the shared statement
// (sql/webhook-replay.ts), in the group commit like every write.
import { REPLAY_EVENT } from '../sql/webhook-replay.js';
import { run, type Db, type Effects } from './rows.js';

export const WEBHOOK_REPLAY_WRITES = {
  replayWebhookEvents(db: Db, _fx: Effects, account: string, webhookId: string, seqs: number[], now: number): number {
    let n = 0;
    for (const seq of seqs) n += Number(run(db, REPLAY_EVENT, [webhookId, account, seq, now]).changes);
    return n;
  },
};
