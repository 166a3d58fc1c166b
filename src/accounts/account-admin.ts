// Owns changing an account's plan (its rate limits), the one path of `postlane accounts limits`
// and PATCH /v1/accounts/:name (the operator's alone: the route checks who asks).
import { NotFoundError } from '../errors.js';
import type { RateLimits } from '../store/platform-store.js';
import type { QueueStore } from '../store/store.js';
import { mergeLimits, type LimitsChange } from './rate-limits.js';

/** Applies `change` to the account's limits and answers the new limits; ERR_NOT_FOUND for no such account. */
export async function changeAccountLimits(store: Pick<QueueStore, 'getAccount' | 'setAccountLimits'>, name: string, change: LimitsChange): Promise<RateLimits> {
  const account = await store.getAccount(name);
  if (!account) throw new NotFoundError(`account ${name}`);
  if (Object.keys(change).length === 0) return account.limits;
  const next = mergeLimits(account.limits, change);
  if (!(await store.setAccountLimits(name, next))) throw new NotFoundError(`account ${name}`);
  return next;
}
