// POST /v1/webhooks/:id/replay (issue 12, the dashboard's webhook page): send stored events to a
// webhook again (store/webhook-replay-store.ts): the events named by id, or every event of the
// account in a time window that the webhook subscribes to (at most MAX_EVENTS). Delivery is the
// dispatcher's, as for new events: signed, retried, at least once (receivers dedupe on the id).
import { z } from 'zod/v4';
import { ApiError } from '../../ingress/http/api-error.js';
import type { Webhook } from '../../store/platform-store.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, idParams, queryTime } from '../schemas.js';
import type { RouteContext } from './context.js';
import { heavyResponses } from '../heavy-work.js';

const MAX_EVENTS = 10_000;
const PAGE = 1000;

const replayBody = z.object({
  event_ids: z.array(z.string().regex(/^ev_\d{1,15}$/, 'an event id like ev_42')).min(1).max(1000).optional(),
  since: queryTime.optional().describe('with until: every event of the account in [since, until) the webhook subscribes to'),
  until: queryTime.optional(),
}).strict().refine((b) => (b.event_ids !== undefined) !== (b.since !== undefined), { message: 'give event_ids, or since (and optionally until)', path: ['event_ids'] })
  .meta({ id: 'WebhookReplay' });

export function webhookReplayRoutes(ctx: RouteContext): ApiRoute[] {
  return [defineRoute({
    method: 'POST', url: '/v1/webhooks/:id/replay', scope: 'admin', tag: 'webhooks', params: idParams, body: replayBody,
    summary: `Send stored events to the webhook again: by id, or those of a time window (at most ${MAX_EVENTS})`,
    responses: {
      202: { description: 'queued for delivery', schema: z.object({ queued: z.number().int() }) },
      404: { description: 'no such webhook in this account', schema: errorBody },
      409: { description: 'the webhook is disabled: enable it first', schema: errorBody },
      422: { description: 'invalid fields', schema: errorBody },
      ...heavyResponses,
    },
    handler: async (r) => {
      const webhook = await ctx.store.getWebhook(r.key.account, r.params.id);
      if (!webhook) throw new ApiError(404, 'not_found', 'No such webhook');
      if (!webhook.enabled) throw new ApiError(409, 'webhook_disabled', 'The webhook is disabled: enable it first');
      // Counted in events to queue (http.heavyWorkPerAccountPerMinute); a window's are known after reading it.
      if (!r.body.event_ids) ctx.heavyWork.check(r.key.account);
      const seqs = r.body.event_ids
        ? r.body.event_ids.map((id) => Number(id.slice(3)))
        : await windowSeqs(ctx, webhook, r.body.since!, r.body.until ?? ctx.clock.now());
      ctx.heavyWork.take(r.key.account, seqs.length);
      const queued = await ctx.store.replayWebhookEvents(r.key.account, webhook.id, seqs, ctx.clock.now());
      return { status: 202, body: { queued } };
    },
  })];
}

/** The seqs of the account's events in [since, until) of the types the webhook takes, oldest first. */
async function windowSeqs(ctx: RouteContext, webhook: Webhook, since: number, until: number): Promise<number[]> {
  const out: number[] = [];
  for (let after = 0; out.length < MAX_EVENTS;) {
    const page = await ctx.store.listEvents({
      account: webhook.account, after, since, until, limit: PAGE, ...(webhook.events.length ? { types: webhook.events } : {}),
    });
    out.push(...page.map((e) => e.seq));
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.seq;
  }
  return out.slice(0, MAX_EVENTS);
}
