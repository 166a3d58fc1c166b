// /v1/breakers: the circuit breakers (store/breaker-rules.ts). An account's read key lists the
// breakers of its own mail (its account scope, and sending domains or sources its mail tripped);
// the installation's operator (an admin key of the 'default' account) lists every account's and
// is the only one who may resume: a tenant lifting the breaker its own complaints tripped would
// defeat it. Who resumed (the request's `by`, and the key) and why are kept with the breaker.
import { z } from 'zod/v4';
import { isOperator } from '../../accounts/operator.js';
import { ApiError } from '../../ingress/http/api-error.js';
import type { Breaker } from '../../store/breaker-rules.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, idParams, isoTime, limitParam } from '../schemas.js';
import type { RouteContext } from './context.js';

const listQuery = z.object({
  state: z.enum(['open', 'resumed', 'all']).default('open'),
  account: z.string().min(1).max(63).optional().describe('operator only: another account; absent: the operator sees every account'),
  limit: limitParam(1000, 100),
}).strict();

const resumeRequest = z.object({
  reason: z.string().trim().min(1).max(500).describe('why it is safe to send again (kept with the breaker and in the breaker.resumed event)'),
  by: z.string().trim().min(1).max(100).optional().describe('who resumes it; the API key id is kept too'),
}).strict().meta({ id: 'ResumeBreakerRequest' });

const breakerBody = z.object({
  id: z.string(), scope: z.enum(['account', 'domain', 'source']), scope_key: z.string(), account: z.string(),
  metric: z.enum(['complaint', 'hard_bounce', 'block', 'deferral']),
  rate: z.number(), count: z.number().int(), volume: z.number().int(), threshold: z.number(), window_ms: z.number().int(),
  tripped_at: z.string(), held: z.number().int().describe('recipients it holds now (state held)'),
  resumed_at: z.string().nullable(), resumed_by: z.string().nullable(), resume_reason: z.string().nullable(),
}).meta({ id: 'Breaker' });

const render = (b: Breaker) => ({
  id: String(b.id), scope: b.scope.type, scope_key: b.scope.key, account: b.account, metric: b.metric,
  rate: b.rate, count: b.count, volume: b.volume, threshold: b.threshold, window_ms: b.windowMs, tripped_at: isoTime(b.trippedAt)!, held: b.held,
  resumed_at: isoTime(b.resumedAt), resumed_by: b.resumedBy, resume_reason: b.resumeReason,
});

const notFound = () => new ApiError(404, 'not_found', 'No such open breaker');

export function breakerRoutes(ctx: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET', url: '/v1/breakers', scope: 'read', tag: 'breakers', query: listQuery,
      summary: 'Circuit breakers: scopes whose bounce, complaint or block rate paused their broadcast mail, and why',
      responses: { 200: { description: 'breakers, newest first', schema: z.object({ data: z.array(breakerBody) }) }, 403: { description: 'another account asked by a non-operator key', schema: errorBody } },
      handler: async (r) => {
        if (r.query.account !== undefined && r.query.account !== r.key.account && !isOperator(r.key)) {
          throw new ApiError(403, 'forbidden', 'Only the operator may read other accounts\' breakers');
        }
        const account = r.query.account ?? (isOperator(r.key) ? undefined : r.key.account);
        const open = r.query.state === 'all' ? undefined : r.query.state === 'open';
        const found = await ctx.store.listBreakers({ ...(open === undefined ? {} : { open }), ...(account === undefined ? {} : { account }), limit: r.query.limit });
        return { status: 200, body: { data: found.map(render) } };
      },
    }),
    defineRoute({
      method: 'POST', url: '/v1/breakers/:id/resume', scope: 'admin', tag: 'breakers', params: idParams, body: resumeRequest,
      summary: 'Resume a tripped breaker (operator only): the mail it held is due again',
      responses: {
        200: { description: 'the breaker, resumed', schema: breakerBody }, 403: { description: 'not the operator', schema: errorBody },
        404: { description: 'no such open breaker', schema: errorBody },
      },
      handler: async (r) => {
        if (!isOperator(r.key)) throw new ApiError(403, 'forbidden', 'Only the operator (an admin key of the default account) may resume a breaker');
        if (!/^\d{1,15}$/.test(r.params.id)) throw notFound();
        const id = Number(r.params.id);
        const held = (await ctx.store.listBreakers({ open: true, limit: 1000 })).find((b) => b.id === id)?.held ?? 0;
        const by = `${r.body.by ?? 'api'} (key ${r.key.id})`;
        const b = await ctx.store.resumeBreaker(id, by, r.body.reason, ctx.clock.now());
        if (!b) throw notFound();
        return { status: 200, body: render({ ...b, held }) };
      },
    }),
  ];
}
