// The public face of address verification (docs/verification.md): the HTTP route and the CLI
// build a Verifier from the configuration and ask it about addresses; everything else in verify/
// is internal. Verification reads (DNS, the store) and never writes.
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { MxResolver } from '../delivery/index.js';
import type { VerifyDeps, VerifyResult } from './verify-address.js';
import { verifyBatch, VerifyBudget } from './verify-batch.js';
import { VerifyLists } from './verify-lists.js';
import { fairQueue } from './fair-queue.js';
import { SmtpProber } from './smtp-probe.js';

export type { VerifyResult, Reason, VerifyChecks } from './verify-address.js';
export { REASON_RULES, VERDICTS, type Verdict, type ReasonCode } from './verdict-rules.js';

/** Addresses in one request at most (API and CLI). */
export const MAX_BATCH = 100;

export interface Verifier {
  /** Results in the order of `addresses`, judged against `account`'s suppressions and history. */
  verify(account: string, addresses: readonly string[]): Promise<VerifyResult[]>;
  /** Charges the account's per-minute budget (API only). */
  take(account: string, n: number): ReturnType<VerifyBudget['take']>;
}

export function createVerifier(opts: { config: Pick<Config, 'verify' | 'delivery' | 'hostname'>; store: VerifyDeps['store']; resolver: MxResolver; clock: Clock }): Verifier {
  const { verify, delivery } = opts.config;
  const lists = new VerifyLists({ extraDisposableFile: verify.extraDisposableDomains });
  const probe = verify.smtpProbe;
  const prober = probe === false ? undefined : new SmtpProber({
    timeoutMs: probe.timeout, perHostPerMinute: probe.perHostPerMinute, skipMxHosts: probe.skipMxHosts, port: delivery.port, heloName: opts.config.hostname,
  }, opts.clock);
  // One history read in flight per process: on SQLite it is a scan of the account's events in the
  // store's single worker, and acceptance writes must never queue behind a batch of them. Accounts
  // take turns (fair-queue.ts): one account's large batch does not hold up another's reads.
  const historyTurns = fairQueue();
  const store: VerifyDeps['store'] = {
    listSuppressions: (q) => opts.store.listSuppressions(q),
    listEvents: (q) => historyTurns(q.account, () => opts.store.listEvents(q)),
  };
  const deps: VerifyDeps = { resolver: opts.resolver, store, lists, ipv6: delivery.ipv6, mxAddresses: delivery.mxAddresses, prober, history: verify.history };
  const budget = new VerifyBudget(verify.perAccountPerMinute, opts.clock);
  return {
    verify: (account, addresses) => verifyBatch(deps, account, addresses, verify.concurrency),
    take: (account, n) => budget.take(account, n),
  };
}
