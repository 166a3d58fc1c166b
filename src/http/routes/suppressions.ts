// /v1/suppressions: the account's suppression list (store/suppression-store.ts). Reading needs the
// read scope; adding needs send (an application reporting an unsubscribe it handled itself only
// stops mail); removing needs admin (it lets mail reach an address that bounced or complained).
// Addresses are case-insensitive. Another account's entries are never visible.
import { z } from 'zod/v4';
import { ApiError } from '../../ingress/http/api-error.js';
import { SUPPRESSION_REASONS, SUPPRESSION_SCOPES, type Suppression, type SuppressionReason, type SuppressionScope } from '../../store/suppression-store.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { decodeCursor, encodeCursor, errorBody, isoTime, limitParam } from '../schemas.js';
import type { RouteContext } from './context.js';
import { heavyResponses, heavyReadResponses } from '../heavy-work.js';

const scope = z.enum(SUPPRESSION_SCOPES as [SuppressionScope, ...SuppressionScope[]]);
const reason = z.enum(SUPPRESSION_REASONS as [SuppressionReason, ...SuppressionReason[]]);
const email = z.string().min(3).max(254).regex(/^[^\s@]+@[^\s@]+$/, 'expected an email address');

export const suppressionBody = z.object({
  email: z.string(), scope, reason, created_at: z.string(),
  source: z.string().nullable().describe('the event that caused it (ev_…), or cli / api / import'),
  message_id: z.string().nullable(), detail: z.string().nullable(),
}).meta({ id: 'Suppression' });

const suppressionPage = z.object({ data: z.array(suppressionBody), next_cursor: z.string().nullable() }).meta({ id: 'SuppressionPage' });

const listQuery = z.object({
  search: z.string().max(254).optional().describe('addresses containing this text'),
  reason: reason.optional(), scope: scope.optional(),
  cursor: z.string().max(600).optional(), limit: limitParam(1000, 100),
}).strict();

const addRequest = z.object({
  suppressions: z.array(z.object({
    email, scope: scope.default('all'), detail: z.string().max(500).regex(/^[^\r\n\0]*$/, 'no line breaks').optional(),
  }).strict()).min(1).max(1000),
}).strict().meta({ id: 'AddSuppressionsRequest' });

const addressParams = z.object({ email }).strict();
const cursorSchema = z.object({ a: z.string(), s: scope });

export const renderSuppression = (s: Suppression) => ({
  email: s.address, scope: s.scope, reason: s.reason, created_at: isoTime(s.createdAt)!, source: s.source, message_id: s.messageId, detail: s.detail,
});

export function suppressionRoutes(ctx: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET', url: '/v1/suppressions', scope: 'read', tag: 'suppressions', query: listQuery,
      summary: 'The account\'s suppression list in address order, searchable, paged by cursor',
      heavyRead: true,
      responses: { 200: { description: 'a page of entries', schema: suppressionPage }, ...heavyReadResponses },
      handler: async (r) => {
        const after = decodeCursor(r.query.cursor, cursorSchema);
        const found = await ctx.store.listSuppressions({
          account: r.key.account, search: r.query.search, reason: r.query.reason, scope: r.query.scope, limit: r.query.limit,
          ...(after ? { after: { address: after.a, scope: after.s } } : {}),
        });
        const last = found.at(-1);
        return { status: 200, body: { data: found.map(renderSuppression), next_cursor: found.length === r.query.limit && last ? encodeCursor({ a: last.address, s: last.scope }) : null } };
      },
    }),
    defineRoute({
      method: 'GET', url: '/v1/suppressions/:email', scope: 'read', tag: 'suppressions', params: addressParams,
      summary: 'The entries for one address (one per scope)',
      responses: { 200: { description: 'entries', schema: z.object({ data: z.array(suppressionBody) }) }, 404: { description: 'not suppressed', schema: errorBody } },
      handler: async (r) => {
        const found = await ctx.store.listSuppressions({ account: r.key.account, address: r.params.email });
        if (found.length === 0) throw new ApiError(404, 'not_found', 'The address is not suppressed');
        return { status: 200, body: { data: found.map(renderSuppression) } };
      },
    }),
    defineRoute({
      method: 'POST', url: '/v1/suppressions', scope: 'send', tag: 'suppressions', body: addRequest,
      summary: 'Suppress addresses (reason "manual"); an address already suppressed keeps its entry',
      responses: { 200: { description: 'how many were new', schema: z.object({ added: z.number().int() }) }, 422: { description: 'invalid fields', schema: errorBody }, ...heavyResponses },
      handler: async (r) => {
        ctx.heavyWork.take(r.key.account, r.body.suppressions.length);
        const now = ctx.clock.now();
        const added = await ctx.store.addSuppressions(r.body.suppressions.map((s) => ({
          account: r.key.account, address: s.email, scope: s.scope, reason: 'manual', source: 'api', messageId: null, detail: s.detail ?? null, createdAt: now,
        })));
        return { status: 200, body: { added } };
      },
    }),
    defineRoute({
      method: 'DELETE', url: '/v1/suppressions/:email', scope: 'admin', tag: 'suppressions', params: addressParams,
      query: z.object({ scope: scope.optional().describe('remove only this scope\'s entry; absent: every entry of the address') }).strict(),
      summary: 'Remove an address from the suppression list (mail to it is sent again)',
      responses: { 204: { description: 'removed' }, 404: { description: 'not suppressed', schema: errorBody } },
      handler: async (r) => {
        if ((await ctx.store.removeSuppression(r.key.account, r.params.email, r.query.scope)) === 0) throw new ApiError(404, 'not_found', 'The address is not suppressed');
        return { status: 204 };
      },
    }),
  ];
}
