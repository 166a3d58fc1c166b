// GET /v1/queue (issue 12, the dashboard's overview and queue pages): the account's waiting
// recipients by state and by recipient domain, with the age of the oldest, from the store's queue
// counters (store/queue-overview-store.ts: kept by the recipient triggers, so the read costs the
// same at any queue size; bench/README.md "Dashboard pages"). The operator (admin of the 'default'
// account) may ask for ?account=* (every account) or another account, as with /v1/stats.
// Per-provider throttle state is GET /v1/queue/providers (delivery shaping), not here. Each
// request reads anew (the 5-second cache it once had is gone: the read is now a few tens of ms);
// `as_of` says when it was read.
import { z } from 'zod/v4';
import { ApiError } from '../../ingress/http/api-error.js';
import { DEFAULT_ACCOUNT, type ApiKeyRecord } from '../../store/platform-store.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, isoTime, limitParam } from '../schemas.js';
import type { RouteContext } from './context.js';
import { heavyReadResponses } from '../heavy-work.js';

const queueQuery = z.object({
  domains: limitParam(500, 50).describe('how many domains to list (most waiting recipients first)'),
  account: z.string().min(1).max(63).optional().describe('operator only: another account, or * for all'),
}).strict();

const oldest = { oldest_received_at: z.string().nullable(), oldest_age_seconds: z.number().int().nullable() };
const queueBody = z.object({
  account: z.string().nullable().describe('null: every account'),
  as_of: z.string().describe('when these counts were read'),
  depth: z.number().int().describe('waiting recipients (queued, deferred, delivering, held)'),
  ...oldest,
  by_state: z.object({ queued: z.number().int(), deferred: z.number().int(), delivering: z.number().int(), held: z.number().int() }),
  by_domain: z.array(z.object({ domain: z.string(), recipients: z.number().int(), deferred: z.number().int(), held: z.number().int(), ...oldest })),
}).meta({ id: 'QueueOverview' });

export function queueRoutes(ctx: RouteContext): ApiRoute[] {
  return [defineRoute({
    method: 'GET', url: '/v1/queue', scope: 'read', tag: 'queue', query: queueQuery,
    summary: 'Queue depth by state and by recipient domain, with the age of the oldest waiting message',
    responses: { 200: { description: 'the queue', schema: queueBody }, 403: { description: 'another account asked by a non-operator', schema: errorBody }, ...heavyReadResponses },
    heavyRead: true,
    handler: async (r) => {
      const account = accountOf(r.query.account, r.key);
      const now = ctx.clock.now();
      const o = await ctx.store.queueOverview(account, r.query.domains);
      const age = (at: number | null) => ({ oldest_received_at: isoTime(at), oldest_age_seconds: at === null ? null : Math.max(0, Math.floor((now - at) / 1000)) });
      const byState = { queued: 0, deferred: 0, delivering: 0, held: 0 };
      for (const s of o.byState) byState[s.state] = s.recipients;
      const oldestAt = o.byState.length ? Math.min(...o.byState.map((s) => s.oldestReceivedAt)) : null;
      return {
        status: 200,
        body: {
          account, as_of: isoTime(now)!, depth: o.byState.reduce((n, s) => n + s.recipients, 0), ...age(oldestAt), by_state: byState,
          by_domain: o.byDomain.map((d) => ({ domain: d.domain, recipients: d.recipients, deferred: d.deferred, held: d.held, ...age(d.oldestReceivedAt) })),
        },
      };
    },
  })];
}

function accountOf(asked: string | undefined, key: ApiKeyRecord): string | null {
  if (asked === undefined || asked === key.account) return key.account;
  if (key.account !== DEFAULT_ACCOUNT || !key.scopes.includes('admin')) throw new ApiError(403, 'forbidden', 'Only the operator may read other accounts\' queues');
  return asked === '*' ? null : asked;
}
