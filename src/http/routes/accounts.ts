// GET /v1/account and GET /v1/accounts (issue 12): the account's plan (its rate limits) and the
// current usage of each limited window, read from the same quota counters the submission charges
// (accounts/quota.ts windowsFor). /v1/accounts lists every account for the installation's operator
// (an admin key, or dashboard admin, of the 'default' account) and only its own account otherwise.
import { z } from 'zod/v4';
import { windowsFor } from '../../accounts/quota.js';
import { ApiError } from '../../ingress/http/api-error.js';
import { DEFAULT_ACCOUNT, type Account, type ApiKeyRecord } from '../../store/platform-store.js';
import type { QueueStore } from '../../store/store.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, isoTime } from '../schemas.js';
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

const isOperator = (key: ApiKeyRecord) => key.account === DEFAULT_ACCOUNT && key.scopes.includes('admin');

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
  ];
}
