// The queue overview's part of the store interface (issue 12, the dashboard's queue and overview
// pages): the waiting recipients (queued, deferred, delivering, held) counted by state and by
// recipient domain, with the receive time of the oldest, for one account or all, in one grouped
// read each (no row is listed, so its cost does not depend on a page size).

export interface QueueStateCount { state: 'queued' | 'deferred' | 'delivering' | 'held'; recipients: number; oldestReceivedAt: number }
export interface QueueDomainCount { domain: string; recipients: number; deferred: number; held: number; oldestReceivedAt: number }

export interface QueueOverview {
  byState: QueueStateCount[];
  /** Most waiting recipients first (then by name), at most `domains` of them. */
  byDomain: QueueDomainCount[];
}

export interface QueueOverviewStore {
  /** `account` null: every account. */
  queueOverview(account: string | null, domains: number): Promise<QueueOverview>;
}
