// The scheduler's unit tests without sockets (src/delivery/scheduler*.test.ts): delivery jobs and an
// in-memory QueueStore that hands them out oldest first, with in-process destination slots.
import { InProcessSlots } from '../../src/store/in-process-slots.js';
import type { AcquireSlotsOptions, DeliveryJob, DestinationSlot, QueueStore } from '../../src/store/store.js';

/** A one-recipient relay job numbered `n` to `domain`. */
export const job = (n: number, domain: string): DeliveryJob => ({
  messageId: `M${n}`, domain, mailFrom: 'a@x.test', returnPath: 'a@x.test', isBounce: false, route: 'relay', size: 1, receivedAt: 0,
  recipients: [{ id: n, address: `r${n}@${domain}`, attempts: 0 }], leaseUntil: 0, delayNotified: false, account: 'default', stream: 'transactional',
});

/**
 * Due jobs handed out oldest first, domains in excludeDomains skipped; given-back jobs due again at
 * once. `greedy` ignores the per-call limit for one domain (as a racing claim might). `released`:
 * the owners whose leases were released.
 */
export function fakeStore(jobs: DeliveryJob[], greedy = false) {
  const pending = [...jobs];
  const released: string[] = [];
  const slots = new InProcessSlots();
  const store = {
    async claimDue(o: { limit: number; excludeDomains?: readonly string[] }) {
      const out: DeliveryJob[] = [];
      for (let i = 0; i < pending.length && (out.length < o.limit || (greedy && pending[i]!.domain === out[0]?.domain));) {
        if (o.excludeDomains?.includes(pending[i]!.domain)) { i++; continue; }
        out.push(...pending.splice(i, 1));
      }
      return out;
    },
    async nextDueAt() { return pending.length ? 0 : null; },
    async releaseLeases(owner: string) { released.push(owner); return 0; },
    acquireDestinationSlots: async (o: AcquireSlotsOptions) => slots.acquire(o),
    renewDestinationSlots: async (o: { owner: string; now: number; leaseMs: number }) => slots.renew(o),
    releaseDestinationSlots: async (owner: string, which?: DestinationSlot[]) => slots.release(owner, which),
    async unclaimJobs(_owner: string, given: { messageId: string; domain: string }[]) {
      pending.unshift(...jobs.filter((j) => given.some((g) => g.messageId === j.messageId && g.domain === j.domain)));
      return given.length;
    },
  };
  return { store: store as unknown as QueueStore, pending, released };
}
