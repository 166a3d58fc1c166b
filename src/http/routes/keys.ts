// /v1/keys: the account's API keys (admin scope). A key's token is returned once, on creation;
// the store keeps only its hash. Revoking is immediate for every node (the key row is read per request).
import { z } from 'zod/v4';
import { newApiKey } from '../../accounts/api-keys.js';
import { API_SCOPES, type ApiKeyRecord, type ApiScope } from '../../store/platform-store.js';
import { ApiError } from '../../ingress/http/api-error.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, idParams, isoTime } from '../schemas.js';
import type { RouteContext } from './context.js';

const limitsBody = z.object({
  per_second: z.number().int().min(1).nullable().optional(), per_hour: z.number().int().min(1).nullable().optional(),
  per_day: z.number().int().min(1).nullable().optional(), per_month: z.number().int().min(1).nullable().optional(),
}).strict().meta({ id: 'RateLimits', description: 'recipients per window, on top of the account\'s; absent or null: no key limit' });

const createKey = z.object({
  name: z.string().max(100).regex(/^[^\r\n\0]*$/).optional(),
  scopes: z.array(z.enum(API_SCOPES as [ApiScope, ...ApiScope[]])).min(1),
  limits: limitsBody.optional(),
}).strict().meta({ id: 'CreateKeyRequest' });

const keyBody = z.object({
  id: z.string(), name: z.string().nullable(), scopes: z.array(z.string()), limits: limitsBody,
  created_at: z.string(), last_used_at: z.string().nullable(), revoked_at: z.string().nullable(),
}).meta({ id: 'ApiKey' });

const renderKey = (k: ApiKeyRecord) => ({
  id: k.id, name: k.name, scopes: k.scopes,
  limits: { per_second: k.limits.perSecond ?? null, per_hour: k.limits.perHour ?? null, per_day: k.limits.perDay ?? null, per_month: k.limits.perMonth ?? null },
  created_at: isoTime(k.createdAt), last_used_at: isoTime(k.lastUsedAt), revoked_at: isoTime(k.revokedAt),
});

export function keyRoutes(ctx: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET', url: '/v1/keys', scope: 'admin', tag: 'keys', summary: 'The account\'s API keys (never their tokens)',
      responses: { 200: { description: 'keys', schema: z.object({ data: z.array(keyBody) }) } },
      handler: async (r) => ({ status: 200, body: { data: (await ctx.store.listApiKeys(r.key.account)).map(renderKey) } }),
    }),
    defineRoute({
      method: 'POST', url: '/v1/keys', scope: 'admin', tag: 'keys', body: createKey, idempotent: true, secretFields: ['token'],
      summary: 'Create an API key; its token is in this response only',
      responses: { 201: { description: 'created', schema: keyBody.extend({ token: z.string().describe('pl_<id>_<secret>: shown once') }) }, 422: { description: 'invalid fields', schema: errorBody } },
      handler: async (r) => {
        const l = r.body.limits ?? {};
        const { record, token } = newApiKey({
          account: r.key.account, scopes: r.body.scopes, name: r.body.name ?? null, now: ctx.clock.now(),
          limits: { perSecond: l.per_second ?? null, perHour: l.per_hour ?? null, perDay: l.per_day ?? null, perMonth: l.per_month ?? null },
        });
        await ctx.store.addApiKey(record);
        return { status: 201, body: { ...renderKey(record), token } };
      },
    }),
    defineRoute({
      method: 'DELETE', url: '/v1/keys/:id', scope: 'admin', tag: 'keys', params: idParams, summary: 'Revoke an API key',
      responses: { 204: { description: 'revoked' }, 404: { description: 'no such key in this account', schema: errorBody } },
      handler: async (r) => {
        const revoked = await ctx.store.revokeApiKey(r.key.account, r.params.id, ctx.clock.now());
        ctx.keyCache?.forget(r.params.id);
        if (!revoked) throw new ApiError(404, 'not_found', 'No such key');
        return { status: 204 };
      },
    }),
  ];
}
