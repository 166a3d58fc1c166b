// GET /v1/stats: delivery statistics of the account over a time window, grouped by hour, day,
// recipient domain, mailbox provider, stream, tag or not at all, with the rates. Read from the
// store's pre-aggregated counters (store/stats-store.ts), so the cost does not grow with the event
// log. The installation's operator (an admin key of the 'default' account) may ask for another
// account (?account=name) or all of them (?account=*, groupable by account); nobody else can.
import { z } from 'zod/v4';
import { ApiError } from '../../ingress/http/api-error.js';
import { DEFAULT_ACCOUNT } from '../../store/platform-store.js';
import { STATS_GROUPS, statsProblem, type StatsGroup } from '../../store/stats-store.js';
import { byProvider, COUNT_NAMES, statsReport } from '../../events/stats-report.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, queryTime } from '../schemas.js';
import type { RouteContext } from './context.js';
import { heavyReadResponses } from '../heavy-work.js';

const DAY_MS = 86_400_000;
const MAX_WINDOW_MS = 400 * DAY_MS;

const statsQuery = z.object({
  from: queryTime.optional().describe('start (ISO 8601); default: 7 days before `to`'),
  to: queryTime.optional().describe('end, exclusive (ISO 8601); default: now'),
  group_by: z.enum([...STATS_GROUPS, 'provider'] as unknown as [string, ...string[]]).default('day'),
  stream: z.enum(['transactional', 'broadcast']).optional(),
  tag: z.string().min(1).max(100).optional(),
  domain: z.string().min(1).max(253).optional(),
  account: z.string().min(1).max(63).optional().describe('operator only (admin key of the default account): another account, or * for all'),
}).strict();

const counts = z.object(Object.fromEntries(COUNT_NAMES.map((n) => [n, z.number().int()]))).meta({ id: 'StatsCounts' });
const rates = z.object({
  delivery: z.number().nullable(), bounce: z.number().nullable(), complaint: z.number().nullable(), open: z.number().nullable(), click: z.number().nullable(),
}).meta({ id: 'StatsRates' });
const group = z.object({ key: z.string().describe('hour/day: ISO start time; else the domain, provider, stream, tag or account; "" for total'), counts, rates });
const statsBody = z.object({
  from: z.string(), to: z.string(), group_by: z.string(), data: z.array(group), total: group,
}).meta({ id: 'Stats' });

export function statsRoutes(ctx: RouteContext): ApiRoute[] {
  return [defineRoute({
    method: 'GET', url: '/v1/stats', scope: 'read', tag: 'stats', query: statsQuery,
    summary: 'Delivery statistics: counts and rates over a window, grouped by hour, day, domain, provider, stream, tag (or total)',
    responses: { 200: { description: 'statistics', schema: statsBody }, 400: { description: 'invalid query', schema: errorBody }, 403: { description: 'another account asked by a non-operator key', schema: errorBody }, ...heavyReadResponses },
    heavyRead: true,
    handler: async (r) => {
      const to = r.query.to ?? ctx.clock.now();
      const from = r.query.from ?? to - 7 * DAY_MS;
      if (!(from < to) || to - from > MAX_WINDOW_MS) {
        throw new ApiError(400, 'invalid_query', 'The query is invalid', [{ path: 'from', message: 'from must be before to, at most 400 days apart' }]);
      }
      const account = accountOf(r.query.account, r.key);
      const groupBy = r.query.group_by as StatsGroup | 'provider';
      const problem = statsProblem({ groupBy: groupBy === 'provider' ? 'domain' : groupBy, tag: r.query.tag, domain: r.query.domain });
      if (problem) throw new ApiError(400, 'invalid_query', 'The query is invalid', [{ path: 'group_by', message: problem }]);
      if (groupBy === 'account' && account !== null) {
        throw new ApiError(400, 'invalid_query', 'The query is invalid', [{ path: 'group_by', message: 'account grouping needs account=*' }]);
      }
      const rows = await ctx.store.readStats({
        account, from, to, groupBy: groupBy === 'provider' ? 'domain' : groupBy, stream: r.query.stream, tag: r.query.tag, domain: r.query.domain,
      });
      const report = statsReport(groupBy === 'provider' ? byProvider(rows) : rows);
      const timeKey = groupBy === 'hour' || groupBy === 'day';
      return {
        status: 200,
        body: {
          from: new Date(from).toISOString(), to: new Date(to).toISOString(), group_by: groupBy,
          data: report.groups.map((g) => ({ ...g, key: timeKey ? new Date(Number(g.key)).toISOString() : g.key })), total: report.total,
        },
      };
    },
  })];
}

/** The account the statistics are about: the key's own, unless the operator asks for another (null: all). */
function accountOf(asked: string | undefined, key: { account: string; scopes: string[] }): string | null {
  if (asked === undefined || asked === key.account) return key.account;
  if (key.account !== DEFAULT_ACCOUNT || !key.scopes.includes('admin')) throw new ApiError(403, 'forbidden', 'Only the operator may read other accounts\' statistics');
  return asked === '*' ? null : asked;
}
