// Replaying webhook deliveries (issue 12, the dashboard's webhook page): stored events of the
// webhook's account are put back in its outbox (webhook_delivery), due at `now` with no attempts,
// so the dispatcher sends them again exactly as the first time (at-least-once; receivers dedupe
// on the event id). An event still waiting in the outbox is made due now instead.

export interface WebhookReplayStore {
  /** Queues the events (by seq) of `account` to the webhook again; how many were queued. Events of another account are skipped. */
  replayWebhookEvents(account: string, webhookId: string, seqs: number[], now: number): Promise<number>;
}
