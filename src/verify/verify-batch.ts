// Owns running verifications in bulk: a batch shares one domain-lookup memo (a list of 100
// addresses at one company asks DNS once) and runs at most `concurrency` verifications at a
// time; and the per-account budget of addresses per minute (in this process), because every
// address can cost DNS queries the relay makes on the account's behalf.
import { MinuteBudget } from '../accounts/minute-budget.js';
import { verifyAddress, type DomainFacts, type VerifyDeps, type VerifyResult } from './verify-address.js';

export async function verifyBatch(deps: VerifyDeps, account: string, addresses: readonly string[], concurrency: number): Promise<VerifyResult[]> {
  const batchDeps: VerifyDeps = { ...deps, domainCache: deps.domainCache ?? new Map<string, Promise<DomainFacts>>() };
  const results: VerifyResult[] = new Array(addresses.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < addresses.length; i = next++) results[i] = await verifyAddress(batchDeps, account, addresses[i]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, addresses.length)) }, worker));
  return results;
}

/**
 * Addresses verified per account per minute (a fixed one-minute window, in memory: per node).
 * take() charges n addresses or, over the budget, charges nothing and returns the seconds until the window ends.
 */
export class VerifyBudget extends MinuteBudget {}
