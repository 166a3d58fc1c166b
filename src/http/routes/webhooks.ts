// /v1/webhooks: the account's webhook endpoints. Listing and reading need the read scope; creating,
// removing and re-enabling need admin. The signing secret (`whsec_` + 32 random bytes, base64)
// is generated here and returned once, on creation; the dispatcher (src/events/) signs with it.
import { z } from 'zod/v4';
import { EVENT_TYPES, type EventType, type Webhook, type WebhookAttempt } from '../../store/platform-store.js';
import { ApiError, invalidFields } from '../../ingress/http/api-error.js';
import { newWebhook, privateDestinationProblem, shownWebhookUrl, webhookUrlProblem } from '../../events/webhook-destination.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, idParams, isoTime, limitParam } from '../schemas.js';
import type { RouteContext } from './context.js';

const createWebhook = z.object({
  url: z.url({ protocol: /^https?$/ }).max(2000).describe('http(s) URL receiving POSTed event batches'),
  events: z.array(z.enum(EVENT_TYPES as [EventType, ...EventType[]])).optional().describe('event types to send; absent or empty: all'),
}).strict().meta({ id: 'CreateWebhookRequest' });

const webhookBody = z.object({
  id: z.string(), url: z.string(), events: z.array(z.string()), enabled: z.boolean(), created_at: z.string(),
  disabled_at: z.string().nullable(), disabled_reason: z.string().nullable(),
}).meta({ id: 'Webhook' });

const attemptBody = z.object({
  at: z.string(), ok: z.boolean(), status: z.number().nullable(), error: z.string().nullable(), duration_ms: z.number(), event_ids: z.array(z.string()),
}).meta({ id: 'WebhookAttempt' });

const renderWebhook = (w: Webhook) => ({
  id: w.id, url: shownWebhookUrl(w.url), events: w.events, enabled: w.enabled, created_at: isoTime(w.createdAt),
  disabled_at: isoTime(w.disabledAt), disabled_reason: w.disabledReason,
});
const renderAttempt = (a: WebhookAttempt) => ({ at: isoTime(a.at), ok: a.ok, status: a.status, error: a.error, duration_ms: a.durationMs, event_ids: a.eventIds });

const notFound = () => new ApiError(404, 'not_found', 'No such webhook');

export function webhookRoutes(ctx: RouteContext): ApiRoute[] {
  const mustExist = async (account: string, id: string) => (await ctx.store.getWebhook(account, id)) ?? Promise.reject(notFound());
  return [
    defineRoute({
      method: 'GET', url: '/v1/webhooks', scope: 'read', tag: 'webhooks', summary: 'The account\'s webhooks (without secrets)',
      responses: { 200: { description: 'webhooks', schema: z.object({ data: z.array(webhookBody) }) } },
      handler: async (r) => ({ status: 200, body: { data: (await ctx.store.listWebhooks(r.key.account)).map(renderWebhook) } }),
    }),
    defineRoute({
      method: 'POST', url: '/v1/webhooks', scope: 'admin', tag: 'webhooks', body: createWebhook, idempotent: true, secretFields: ['secret'],
      summary: 'Create a webhook; its signing secret is in this response only',
      responses: {
        201: { description: 'created', schema: webhookBody.extend({ secret: z.string() }) },
        409: { description: 'the account has webhooks.maxPerAccount webhooks already', schema: errorBody },
        422: { description: 'invalid fields', schema: errorBody },
      },
      handler: async (r) => {
        const unusable = webhookUrlProblem(r.body.url);
        if (unusable) throw invalidFields([{ path: 'url', message: unusable }]);
        const problem = ctx.allowPrivateWebhooks ? null : privateDestinationProblem(r.body.url);
        if (problem) throw invalidFields([{ path: 'url', message: `${problem}: webhooks may only reach public addresses` }]);
        const w = newWebhook({ account: r.key.account, url: r.body.url, events: r.body.events ?? [], now: ctx.clock.now() });
        if (!(await ctx.store.addWebhook(w, ctx.maxWebhooksPerAccount))) {
          throw new ApiError(409, 'webhook_limit', `This account has ${ctx.maxWebhooksPerAccount} webhooks, the most it may have (webhooks.maxPerAccount): remove one first`);
        }
        return { status: 201, body: { ...renderWebhook(w), secret: w.secret } };
      },
    }),
    defineRoute({
      method: 'GET', url: '/v1/webhooks/:id', scope: 'read', tag: 'webhooks', params: idParams, summary: 'One webhook',
      responses: { 200: { description: 'the webhook', schema: webhookBody }, 404: { description: 'no such webhook in this account', schema: errorBody } },
      handler: async (r) => ({ status: 200, body: renderWebhook(await mustExist(r.key.account, r.params.id)) }),
    }),
    defineRoute({
      method: 'DELETE', url: '/v1/webhooks/:id', scope: 'admin', tag: 'webhooks', params: idParams, summary: 'Remove a webhook (pending deliveries are dropped)',
      responses: { 204: { description: 'removed' }, 404: { description: 'no such webhook in this account', schema: errorBody } },
      handler: async (r) => {
        if (!(await ctx.store.removeWebhook(r.key.account, r.params.id))) throw notFound();
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'POST', url: '/v1/webhooks/:id/enable', scope: 'admin', tag: 'webhooks', params: idParams,
      summary: 'Re-enable a webhook that was disabled after failing',
      responses: { 200: { description: 'enabled', schema: webhookBody }, 404: { description: 'no such webhook in this account', schema: errorBody } },
      handler: async (r) => {
        if (!(await ctx.store.setWebhookEnabled(r.key.account, r.params.id, true, null, ctx.clock.now()))) throw notFound();
        return { status: 200, body: renderWebhook(await mustExist(r.key.account, r.params.id)) };
      },
    }),
    defineRoute({
      method: 'GET', url: '/v1/webhooks/:id/attempts', scope: 'read', tag: 'webhooks', params: idParams,
      query: z.object({ limit: limitParam(1000, 100) }).strict(), summary: 'Recent delivery attempts of a webhook, newest first',
      responses: { 200: { description: 'attempts', schema: z.object({ data: z.array(attemptBody) }) }, 404: { description: 'no such webhook in this account', schema: errorBody } },
      handler: async (r) => {
        await mustExist(r.key.account, r.params.id);
        return { status: 200, body: { data: (await ctx.store.listWebhookAttempts(r.key.account, r.params.id, r.query.limit)).map(renderAttempt) } };
      },
    }),
  ];
}
