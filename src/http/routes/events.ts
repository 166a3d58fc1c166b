// GET /v1/events: the account's message events in store order, cursor-paged. The cursor is the
// position after the last event returned (also when the page is empty), so a client can poll
// with the same cursor until new events arrive.
import { z } from 'zod/v4';
import { EVENT_TYPES, type EventType } from '../../store/platform-store.js';
import { ApiError } from '../../ingress/http/api-error.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { decodeCursor, encodeCursor, limitParam, queryTime } from '../schemas.js';
import type { RouteContext } from './context.js';
import { renderWebhookEvent } from '../../events/webhooks.js';
import { heavyReadResponses } from '../heavy-work.js';

const eventQuery = z.object({
  cursor: z.string().max(200).optional(),
  type: z.string().max(300).optional().describe(`comma-separated event types: ${EVENT_TYPES.join(', ')}`),
  message_id: z.string().max(100).optional(),
  recipient: z.string().max(254).optional(),
  since: queryTime.optional(),
  until: queryTime.optional(),
  limit: limitParam(1000, 100),
}).strict();

export const eventBody = z.object({
  id: z.string(), type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]), at: z.string(),
  message_id: z.string().nullable(), recipient: z.string().nullable(), data: z.record(z.string(), z.unknown()),
}).meta({ id: 'Event' });

const eventPage = z.object({ data: z.array(eventBody), next_cursor: z.string() }).meta({ id: 'EventPage' });

/** The same shape webhooks carry (docs/webhooks.md promises it): one renderer for both. */
const renderEvent = renderWebhookEvent;

export function eventRoutes(ctx: RouteContext): ApiRoute[] {
  return [defineRoute({
    method: 'GET', url: '/v1/events', scope: 'read', tag: 'events', query: eventQuery,
    summary: 'Message events (accepted, delivered, deferred, bounced, ...), oldest first, cursor-paged',
    heavyRead: true,
    responses: { 200: { description: 'a page of events', schema: eventPage }, ...heavyReadResponses },
    handler: async (r) => {
      const q = r.query;
      const after = decodeCursor(q.cursor, z.object({ s: z.number().int().min(0) }))?.s ?? 0;
      const types = q.type?.split(',').map((t) => t.trim()).filter(Boolean);
      const unknown = types?.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t)) ?? [];
      if (unknown.length) throw new ApiError(400, 'invalid_query', 'The query is invalid', [{ path: 'type', message: `unknown event type: ${unknown.join(', ')}` }]);
      const events = await ctx.store.listEvents({
        account: r.key.account, after, limit: q.limit, types: types as EventType[] | undefined,
        messageId: q.message_id, recipient: q.recipient, since: q.since, until: q.until,
      });
      return { status: 200, body: { data: events.map(renderEvent), next_cursor: encodeCursor({ s: events.at(-1)?.seq ?? after }) } };
    },
  })];
}
