// /v1/sources: the egress sources (delivery/egress.ts), installation-wide, so only the operator (a
// key of the 'default' account) sees them: read to list, admin to add, drain, pause and resume.
// Changes are stored and seen by every node within egress.refreshInterval; in-flight deliveries
// of a drained or paused source finish. A source added here must be an address this node can
// bind, unless `force` (another node has it).
import { z } from 'zod/v4';
import { addSource, listSourceViews, setSourceState, type SourceView } from '../../delivery/index.js';
import { RelayError } from '../../errors.js';
import { ApiError } from '../../ingress/http/api-error.js';
import { DEFAULT_ACCOUNT, type ApiKeyRecord } from '../../store/platform-store.js';
import type { SourceState } from '../../store/source-store.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody } from '../schemas.js';
import type { RouteContext } from './context.js';

const nameParams = z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i) }).strict();

const sourceBody = z.object({
  name: z.string(), address: z.string().nullable().describe('bind address; null: the system picks (the implicit source)'),
  ehlo: z.string(), pool: z.string(), state: z.enum(['active', 'draining', 'paused']), origin: z.enum(['config', 'added', 'implicit']),
  warmup: z.object({ schedule: z.string(), start: z.string(), day: z.number().int(), cap: z.number().int().nullable().describe('messages per provider today; null: past the schedule (warm)') }).nullable(),
  today: z.record(z.string(), z.number().int()).describe('messages counted today per mailbox provider (warming sources)'),
}).meta({ id: 'Source' });

const addRequest = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i),
  address: z.string().min(2).max(45).describe('local IPv4/IPv6 address to bind'),
  ehlo: z.string().min(1).max(253).describe('EHLO name (its PTR should name it)'),
  pool: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i).optional().describe('absent: egress.defaultPool'),
  warmup: z.object({ schedule: z.string().max(63).optional(), start: z.string().max(10).describe('UTC day YYYY-MM-DD: day 1') }).strict().nullable().optional(),
  force: z.boolean().default(false).describe('add it even though this node cannot bind the address'),
}).strict().meta({ id: 'AddSourceRequest' });

const isOperator = (key: ApiKeyRecord) => key.account === DEFAULT_ACCOUNT;
const operatorOnly = (key: ApiKeyRecord) => {
  if (!isOperator(key)) throw new ApiError(403, 'forbidden', 'Only the operator (a key of the default account) may see or change egress sources');
};
/** CLI-style errors of source-admin.ts as API answers. */
function asApiError(err: unknown): never {
  if (err instanceof RelayError && err.code === 'ERR_USAGE') throw new ApiError(422, 'invalid_source', err.message);
  if (err instanceof RelayError && err.code === 'ERR_SOURCE_EXISTS') throw new ApiError(409, 'source_exists', err.message);
  if (err instanceof RelayError && err.code === 'ERR_NOT_FOUND') throw new ApiError(404, 'not_found', 'No such source');
  throw err;
}

export function sourceRoutes(ctx: RouteContext): ApiRoute[] {
  const change = (verb: string, state: SourceState, summary: string) => defineRoute({
    method: 'POST', url: `/v1/sources/:name/${verb}`, scope: 'admin', tag: 'sources', params: nameParams, summary,
    responses: { 200: { description: 'the source, with its new state', schema: sourceBody }, 403: { description: 'not the operator', schema: errorBody }, 404: { description: 'no such source', schema: errorBody } },
    handler: async (r) => {
      operatorOnly(r.key);
      const v: SourceView = await setSourceState(ctx.egress, ctx.store, r.params.name, state, ctx.clock.now()).catch(asApiError);
      return { status: 200, body: v };
    },
  });
  return [
    defineRoute({
      method: 'GET', url: '/v1/sources', scope: 'read', tag: 'sources',
      summary: 'Egress sources: address, EHLO name, pool, live state, warmup day and cap, today\'s counts per provider',
      responses: { 200: { description: 'every source', schema: z.object({ data: z.array(sourceBody) }) }, 403: { description: 'not the operator', schema: errorBody } },
      handler: async (r) => {
        operatorOnly(r.key);
        return { status: 200, body: { data: await listSourceViews(ctx.egress, ctx.store, ctx.clock.now()) } };
      },
    }),
    defineRoute({
      method: 'POST', url: '/v1/sources', scope: 'admin', tag: 'sources', body: addRequest,
      summary: 'Add an egress source at run time (every node uses it once it can bind the address)',
      responses: {
        201: { description: 'the source, active', schema: sourceBody }, 403: { description: 'not the operator', schema: errorBody },
        409: { description: 'a source of that name exists', schema: errorBody }, 422: { description: 'invalid address, EHLO name, warmup, or an address this node cannot bind', schema: errorBody },
      },
      handler: async (r) => {
        operatorOnly(r.key);
        const { force, ...input } = r.body;
        const v = await addSource(ctx.egress, ctx.store, { ...input, warmup: input.warmup ?? null }, { force, now: ctx.clock.now() }).catch(asApiError);
        return { status: 201, body: v };
      },
    }),
    change('drain', 'draining', 'Drain a source: no new mail (it is going away); deliveries in flight finish'),
    change('pause', 'paused', 'Pause a source: no new mail for now; deliveries in flight finish'),
    change('resume', 'active', 'Resume a drained or paused source'),
  ];
}
