// The suppression half of the store contract (issue 10): per account, the addresses Postlane
// will not send to, with why and since when. Entries are added by the event log itself (a hard
// bounce, a complaint, an unsubscribe, repeated soft bounces: store/event-effects.ts decides, in
// the transaction that writes the event), and by people (CLI, API, CSV import). Delivery reads
// them with the jobs it claims (DeliveryJob recipients carry their suppression), the HTTP API at
// acceptance. Every read and write takes the account: tenant isolation is enforced here.
//
// Scope: 'all' suppresses every message to the address; 'broadcast' only broadcast-stream mail
// (an unsubscribe, by default), so receipts and password resets still reach the person.

export type SuppressionScope = 'all' | 'broadcast';
export const SUPPRESSION_SCOPES: readonly SuppressionScope[] = ['all', 'broadcast'];

export type SuppressionReason = 'hard-bounce' | 'soft-bounce' | 'complaint' | 'unsubscribe' | 'manual';
export const SUPPRESSION_REASONS: readonly SuppressionReason[] = ['hard-bounce', 'soft-bounce', 'complaint', 'unsubscribe', 'manual'];

export interface Suppression {
  account: string;
  /** Lower-case (suppression is case-insensitive, as mailbox providers are in practice). */
  address: string;
  scope: SuppressionScope;
  reason: SuppressionReason;
  /** What caused it: an event id ('ev_…'), or 'cli' / 'api' / 'import'. */
  source: string | null;
  /** The message whose event caused it, if any. */
  messageId: string | null;
  /** The remote response, the complaint's feedback type, or an operator's note. */
  detail: string | null;
  createdAt: number;
}

export interface SuppressionQuery {
  account: string;
  /** Cursor: entries whose (address, scope) sorts after this one. */
  after?: { address: string; scope: SuppressionScope };
  /** Addresses containing this text (case-insensitive). */
  search?: string;
  /** Only this address's entries. */
  address?: string;
  reason?: SuppressionReason;
  scope?: SuppressionScope;
  limit?: number;             // default 100, max 1000
}

/** Repeated soft bounces suppress an address: `count` consecutive ones (no delivery between) within `windowMs`. */
export interface SoftBouncePolicy { count: number; windowMs: number }

export interface SuppressionStore {
  /**
   * Adds entries; an existing (account, address, scope) is kept as it is (the first cause stays
   * on record) unless `replace`. Returns how many were added or replaced. Unknown account: ERR_NOT_FOUND.
   */
  addSuppressions(entries: Suppression[], opts?: { replace?: boolean }): Promise<number>;
  /** Removes the address's entries (one scope, or every scope). Returns how many were removed. */
  removeSuppression(account: string, address: string, scope?: SuppressionScope): Promise<number>;
  /** Ordered by (address, scope). */
  listSuppressions(q: SuppressionQuery): Promise<Suppression[]>;
  /**
   * The entries that stop mail of `stream` to any of `addresses` (scope 'all', or the stream's own),
   * one per address (the 'all' entry when there are both).
   */
  findSuppressions(account: string, stream: 'transactional' | 'broadcast', addresses: string[]): Promise<Map<string, Suppression>>;
}

/**
 * The recipients `found` (findSuppressions' answer, by suppressionKey) stops, as NewMessage.suppressed
 * lists them: each address once, in envelope order, with its entry's cause.
 */
export const suppressedAmong = (recipients: string[], found: Map<string, Suppression>): { address: string; suppression: SuppressionCause }[] =>
  [...new Set(recipients)].flatMap((address) => {
    const s = found.get(suppressionKey(address));
    return s ? [{ address, suppression: { reason: s.reason, scope: s.scope, createdAt: s.createdAt, source: s.source } }] : [];
  });

/** Lower-case, trimmed: the form entries are stored and looked up in. */
export const suppressionKey = (address: string): string => address.trim().toLowerCase();

/** Whether an entry of `scope` stops mail of `stream`. */
export const stopsStream = (scope: SuppressionScope, stream: string): boolean => scope === 'all' || scope === stream;

/** What a suppressed recipient's outcome carries (stored with its 'suppressed' event). */
export type SuppressionCause = Pick<Suppression, 'reason' | 'scope' | 'createdAt' | 'source'>;

/** The reply text recorded for a recipient not sent because of `s` (like a 5.7.1 policy refusal). */
export const suppressedReason = (s: Pick<Suppression, 'reason' | 'createdAt'>): string =>
  `not sent: the recipient is on the suppression list (${s.reason}, since ${new Date(s.createdAt).toISOString().slice(0, 10)})`;
export const suppressedResponse = (s: Pick<Suppression, 'reason' | 'createdAt'>): string => `550 5.7.1 ${suppressedReason(s)}`;

/** listSuppressions page size: default 100, at most 1000. */
export const suppressionLimit = (limit: number | undefined): number => Math.max(1, Math.min(limit ?? 100, 1000));

/** Of several entries for one address, the one to report: 'all' before a stream's own. */
export function strongest(entries: Suppression[]): Map<string, Suppression> {
  const out = new Map<string, Suppression>();
  for (const e of entries) {
    const prev = out.get(e.address);
    if (!prev || (prev.scope !== 'all' && e.scope === 'all')) out.set(e.address, e);
  }
  return out;
}
