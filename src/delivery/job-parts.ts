// A message for several recipient domains is claimed as one job per domain (the store's unit of
// lease: message + domain). When every relay job goes to one smarthost (delivery.smarthost), the
// jobs of one message that a claim returned together are joined into one (`alsoDomains`), so the
// message leaves in one transaction with all its RCPTs, as Postfix sends to its relayhost, rather
// than once per domain to the same host: one attempt, one body read and write, one recorded result
// and at most one DSN instead of one per domain (workload iii: 10 recipients over 2 domains,
// bench/README.md fourteenth session). Each recipient still gets its own outcome, event and DSN
// line. A joined job counts against its first domain's connection limit and slots; with a
// smarthost those limit connections to one host whichever domain is named.
import type { DeliveryJob } from '../store/store.js';

export interface JobPart { messageId: string; domain: string }

/** The (message, domain) leases a job holds: its domain and any joined to it. */
export function jobParts(job: DeliveryJob): JobPart[] {
  const first = { messageId: job.messageId, domain: job.domain };
  return job.alsoDomains ? [first, ...job.alsoDomains.map((domain) => ({ messageId: job.messageId, domain }))] : [first];
}

/** Relay jobs of the same message joined into the first of them, recipients in their stored order; other jobs as they were. */
export function joinByMessage(jobs: readonly DeliveryJob[]): DeliveryJob[] {
  const out: DeliveryJob[] = [];
  const at = new Map<string, number>();
  for (const j of jobs) {
    const i = j.route === 'relay' ? at.get(j.messageId) : undefined;
    if (i === undefined) {
      if (j.route === 'relay') at.set(j.messageId, out.length);
      out.push(j);
      continue;
    }
    const m = out[i]!;
    // Each recipient names its domain: set on the claimed recipient objects themselves (fresh from
    // the claim, owned by these jobs, which the joined one replaces), not a copy of each.
    ownDomain(m.recipients, m.domain);
    ownDomain(j.recipients, j.domain);
    const heldMs = m.heldMs === undefined && j.heldMs === undefined ? undefined : Math.max(m.heldMs ?? 0, j.heldMs ?? 0);
    out[i] = {
      ...m,
      recipients: [...m.recipients, ...j.recipients].sort((a, b) => a.id - b.id),
      alsoDomains: [...(m.alsoDomains ?? []), j.domain],
      leaseUntil: Math.min(m.leaseUntil, j.leaseUntil),
      ...(heldMs === undefined ? {} : { heldMs }),
    };
  }
  return out;
}

function ownDomain(recipients: DeliveryJob['recipients'], domain: string): void {
  for (const r of recipients) if (!r.domain) r.domain = domain;
}
