// GET /v1/queue/providers: traffic shaping per mailbox provider (docs/shaping.md) — the waiting
// mail of each provider, its effective limits, the suspension every node sees and, from this
// node's shaper, the messages started in the last minute and the scale it recovers from.
// Installation-wide, so for the operator only (an admin key of the 'default' account).
import { z } from 'zod/v4';
import { ApiError } from '../../ingress/http/api-error.js';
import { DEFAULT_ACCOUNT } from '../../store/platform-store.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, isoTime } from '../schemas.js';
import type { RouteContext } from './context.js';

const providerBody = z.object({
  provider: z.string().describe('"gmail", "microsoft", …, "mx:<registrable domain of the MX>" or a domain (docs/shaping.md)'),
  waiting: z.number().int().describe('recipients queued, deferred, being delivered or held'),
  domains: z.number().int().describe('recipient domains among them'),
  shaped: z.boolean().describe('false: per-domain limits only'),
  max_connections: z.number().int().nullable(),
  per_minute: z.number().nullable().describe('effective rate limit per egress source'),
  rate_per_minute: z.number().int().describe('messages this node started to it in the last minute'),
  scale: z.number().describe('1, or the factor its rates and connections are scaled down by after a throttle reply'),
  suspended_until: z.string().nullable(),
  reason: z.string().nullable().describe('the throttle action that suspended or scaled it down'),
}).meta({ id: 'ProviderQueue' });

export function providerRoutes(ctx: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET', url: '/v1/queue/providers', scope: 'admin', tag: 'queue',
      summary: 'Traffic shaping per mailbox provider: waiting mail, limits, current rate, suspended until and why (operator only)',
      responses: {
        200: { description: 'providers, most waiting mail first', schema: z.object({ data: z.array(providerBody) }) },
        403: { description: 'not the operator', schema: errorBody },
        503: { description: 'no delivery stage in this process', schema: errorBody },
      },
      handler: async (r) => {
        if (r.key.account !== DEFAULT_ACCOUNT) throw new ApiError(403, 'forbidden', 'Only the operator may read the provider queue');
        if (!ctx.providers) throw new ApiError(503, 'unavailable', 'No delivery stage in this process');
        const now = ctx.clock.now();
        const [rows, throttles] = [await ctx.providers.list(now), ctx.providers.throttles()];
        const names = new Set([...rows.map((x) => x.provider), ...throttles.map((t) => t.provider)]);
        const data = [...names].map((provider) => {
          const row = rows.find((x) => x.provider === provider);
          const mine = throttles.filter((t) => t.provider === provider);
          const until = Math.max(row?.suspendedUntil ?? 0, ...mine.map((t) => t.suspendedUntil ?? 0));
          return {
            provider, waiting: row?.waiting ?? 0, domains: row?.domains ?? 0, shaped: row?.shaped ?? mine.some((t) => t.limits !== null),
            max_connections: row?.maxConnections ?? mine[0]?.limits?.maxConnections ?? null, per_minute: row?.perMinute ?? mine[0]?.limits?.perMinute ?? null,
            rate_per_minute: mine.reduce((n, t) => n + t.ratePerMinute, 0), scale: Math.min(1, ...mine.map((t) => t.scale)),
            suspended_until: until > now ? isoTime(until) : null, reason: row?.reason ?? mine.find((t) => t.reason)?.reason ?? null,
          };
        }).sort((a, b) => b.waiting - a.waiting || (a.provider < b.provider ? -1 : 1));
        return { status: 200, body: { data } };
      },
    }),
  ];
}
