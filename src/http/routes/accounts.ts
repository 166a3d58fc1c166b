// GET /v1/account and GET /v1/accounts (issue 12): the account's plan (its rate limits) and the
// current usage of each limited window, read from the same quota counters the submission charges
// (accounts/quota.ts windowsFor). /v1/accounts lists every account for the installation's operator
// (an admin key, or dashboard admin, of the 'default' account) and only its own account otherwise.
// PATCH /v1/accounts/:name changes an account's plan, the operator's alone (accounts/account-admin.ts,
// as `postlane accounts limits`): anyone else is answered 403 whichever account it names.
import { z } from 'zod/v4';
import { changeAccountLimits } from '../../accounts/account-admin.js';
import { isValidAccountName } from '../../accounts/account-name.js';
import { isOperator } from '../../accounts/operator.js';
import { windowsFor } from '../../accounts/quota.js';
import { RelayError } from '../../errors.js';
import { ApiError } from '../../ingress/http/api-error.js';
import type { Account } from '../../store/platform-store.js';
import type { QueueStore } from '../../store/store.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, isoTime, limitsChange } from '../schemas.js';
import type { RouteContext } from './context.js';

const limitsBody = z.object({
  perSecond: z.number().int().nullable().optional(), perHour: z.number().int().nullable().optional(),
  perDay: z.number().int().nullable().optional(), perMonth: z.number().int().nullable().optional(),
}).describe('absent or null: unlimited');

const accountBody = z.object({
  name: z.string(), created_at: z.string(), limits: limitsBody, tracking_domain: z.string().nullable(),
  usage: z.array(z.object({
    window: z.enum(['second', 'hour', 'day', 'month']), limit: z.number().int(), used: z.number().int(), resets_at: z.string(),
  })).describe('one per limited window (none when unlimited)'),
}).meta({ id: 'AccountUsage' });

/** The installation's operator: an admin key (or dashboard admin) of the default account. */

const accountParams = z.object({ name: z.string().min(1).max(63).refine(isValidAccountName, 'an account name') }).strict();
const changeAccount = z.object({ limits: limitsChange }).strict().meta({ id: 'ChangeAccountRequest' });

async function renderAccount(store: QueueStore, a: Account, now: number) {
  const windows = windowsFor(`account:${a.name}`, a.limits, now);
  const used = windows.length ? await store.quotaUsage(windows) : [];
  return {
    name: a.name, created_at: isoTime(a.createdAt)!, limits: a.limits, tracking_domain: a.trackingDomain ?? null,
    usage: windows.map((w, i) => ({ window: w.window, limit: w.limit, used: used[i] ?? 0, resets_at: isoTime(w.windowEnd)! })),
  };
}

export function accountRoutes(ctx: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET', url: '/v1/account', scope: 'read', tag: 'accounts',
      summary: 'This account\'s plan (rate limits) and the usage of each limited window',
      responses: { 200: { description: 'the account', schema: accountBody }, 404: { description: 'the account was removed', schema: errorBody } },
      handler: async (r) => {
        const account = await ctx.store.getAccount(r.key.account);
        if (!account) throw new ApiError(404, 'not_found', 'No such account');
        return { status: 200, body: await renderAccount(ctx.store, account, ctx.clock.now()) };
      },
    }),
    defineRoute({
      method: 'GET', url: '/v1/accounts', scope: 'read', tag: 'accounts',
      summary: 'Accounts with their plan and usage: every account for the operator (admin of the default account), else only this one',
      responses: { 200: { description: 'accounts by name', schema: z.object({ data: z.array(accountBody) }) } },
      handler: async (r) => {
        const now = ctx.clock.now();
        const all = isOperator(r.key) ? await ctx.store.listAccounts() : [await ctx.store.getAccount(r.key.account)].filter((a): a is Account => a !== null);
        const data = [];
        for (const a of all) data.push(await renderAccount(ctx.store, a, now));
        return { status: 200, body: { data } };
      },
    }),
    defineRoute({
      method: 'PATCH', url: '/v1/accounts/:name', scope: 'admin', tag: 'accounts', params: accountParams, body: changeAccount,
      summary: 'Change an account\'s plan (operator only): each window named in limits takes the number, null makes it unlimited, the others stay',
      responses: {
        200: { description: 'the account with its new limits and usage', schema: accountBody },
        403: { description: 'forbidden: only the operator (an admin of the default account) changes plans', schema: errorBody },
        404: { description: 'no such account', schema: errorBody },
        422: { description: 'invalid fields', schema: errorBody },
      },
      handler: async (r) => {
        if (!isOperator(r.key)) throw new ApiError(403, 'forbidden', 'Only the operator (an admin of the default account) may change an account\'s plan');
        try {
          await changeAccountLimits(ctx.store, r.params.name, r.body.limits);
        } catch (err) {
          if (err instanceof RelayError && err.code === 'ERR_NOT_FOUND') throw new ApiError(404, 'not_found', 'No such account');
          throw err;
        }
        const account = await ctx.store.getAccount(r.params.name);
        if (!account) throw new ApiError(404, 'not_found', 'No such account');
        return { status: 200, body: await renderAccount(ctx.store, account, ctx.clock.now()) };
      },
    }),
  ];
}
