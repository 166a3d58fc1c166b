// The order in which claimDue hands out the due groups it found (both stores; issue 11 fairness).
// Tiers first: leases that expired (a dead node's work), then transactional mail, then broadcast,
// so a campaign can never starve receipts and password resets. Within a tier, accounts take turns
// (round-robin, each account's groups in due order, accounts in the order of their earliest due
// group), so one account's backlog delays another's mail by at most one group per turn instead of
// by its whole length. The walks that feed this read a bounded number of rows (FAIR_SCAN per job
// asked for): fairness holds among the accounts whose mail lies within that window of the due order.

export interface DueGroup { messageId: string; domain: string; dueAt: number; account: string; mailFrom: string; stream: string; tier: number }
/** What fairOrder reads of a group (SQLite's walks find the rest, the MAIL FROM, only for the chosen ones). */
export type FairGroup = Pick<DueGroup, 'messageId' | 'domain' | 'dueAt' | 'account' | 'tier'>;

/** Tiers of due work, in claim order. */
export const TIER = { expired: 0, transactional: 1, broadcast: 2 } as const;
/** Distinct groups a walk may collect per job asked for: room to see more than one account. */
export const FAIR_SCAN = 4;

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byDue = (a: FairGroup, b: FairGroup) => a.dueAt - b.dueAt || cmp(a.messageId, b.messageId) || cmp(a.domain, b.domain);

/** The first `limit` groups in claim order: by tier, then accounts in turn. */
export function fairOrder<G extends FairGroup>(groups: Iterable<G>, limit: number): G[] {
  const tiers = new Map<number, Map<string, G[]>>();
  for (const g of groups) {
    let accounts = tiers.get(g.tier);
    if (!accounts) tiers.set(g.tier, (accounts = new Map()));
    const list = accounts.get(g.account);
    if (list) list.push(g);
    else accounts.set(g.account, [g]);
  }
  const out: G[] = [];
  for (const tier of [...tiers.keys()].sort((a, b) => a - b)) {
    const queues: G[][] = []; // pushed to: map()'s array changes elements kind once this is optimised ("wrong map" at its sort)
    for (const l of tiers.get(tier)!.values()) queues.push(l.sort(byDue));
    queues.sort((a, b) => byDue(a[0]!, b[0]!));
    for (let turn = 0; out.length < limit; turn++) {
      let took = false;
      for (const q of queues) {
        if (turn < q.length) { out.push(q[turn]!); took = true; if (out.length >= limit) break; }
      }
      if (!took) break;
    }
    if (out.length >= limit) break;
  }
  return out;
}
