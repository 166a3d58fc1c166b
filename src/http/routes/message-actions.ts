// Routes the dashboard's message and queue pages need beyond /v1/messages (issue 12): a message's
// timeline (how it was accepted, every attempt, every event, in time order) and bulk actions
// (hold, release, retry now, delete) on up to 500 messages of the account. Another account's
// message is answered as not found, like an unknown id, per message.
import { z } from 'zod/v4';
import { recipientId } from '../../ingress/http/submission.js';
import { renderWebhookEvent } from '../../events/webhooks.js';
import type { MessageView } from '../../store/store.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, idParams, isoTime } from '../schemas.js';
import type { RouteContext } from './context.js';
import { eventBody } from './events.js';
import { accountMessage } from './messages.js';
import { heavyResponses } from '../heavy-work.js';

const BULK_ACTIONS = ['hold', 'release', 'retry', 'delete'] as const;
type BulkAction = (typeof BULK_ACTIONS)[number];
const MAX_TIMELINE_EVENTS = 1000;

const bulkBody = z.object({
  action: z.enum(BULK_ACTIONS).describe('hold: keep waiting recipients from delivery; release: make held ones due now; retry: make waiting ones due now; delete: remove the message'),
  ids: z.array(z.string().min(1).max(100)).min(1).max(500).describe('message ids of this account'),
}).strict().meta({ id: 'BulkAction' });

const bulkResult = z.object({
  results: z.array(z.object({
    id: z.string(),
    status: z.enum(['ok', 'not_found', 'unchanged']).describe('unchanged: no recipient was in a state the action applies to'),
    recipients: z.number().int().describe('recipients affected (delete: those the message had)'),
  })),
}).meta({ id: 'BulkResult' });

const tls = z.object({ version: z.string().nullable(), cipher: z.string().nullable(), verified: z.boolean(), policy: z.string(), level: z.string() }).nullable();
const timelineBody = z.object({
  id: z.string(),
  accepted: z.object({
    at: z.string(), listener: z.string().describe('submission, submissions, alt, mx, http or local'),
    client_ip: z.string(), user: z.string().nullable().describe('the SMTP user, or over HTTP the API key id (dashboard:<name> for a dashboard user)'),
    node: z.string().nullable().describe('the id of the node that accepted the message; null for messages accepted before this was kept'),
    api_key: z.string().nullable().describe('over HTTP, the id of the API key that submitted the message (dashboard:<name> for a dashboard user); null over SMTP'),
    subject: z.string().nullable().describe('the decoded Subject, at most 200 characters; null: none, or accepted before this was kept'),
    from: z.string(), size: z.number(), stream: z.string(), tags: z.array(z.string()),
  }),
  recipients: z.array(z.object({ id: z.string(), email: z.string(), status: z.string(), attempts: z.number(), next_attempt_at: z.string().nullable() })),
  attempts: z.array(z.object({
    at: z.string(), recipient: z.string(), status: z.string(), mx_host: z.string().nullable(),
    remote_ip: z.string().nullable().describe('the IP address the deciding (or last failed) session connected to; null when no host was reached'),
    duration_ms: z.number().nullable().describe('how long the attempt took: MX lookup and every session until it was decided; null for older attempts'),
    source: z.string().nullable().describe('the egress source (IP pool member) the attempt used; null: the system\'s address'),
    response: z.string(), tls,
  })).describe('oldest first'),
  events: z.array(eventBody).describe(`oldest first; at most ${MAX_TIMELINE_EVENTS}`),
}).meta({ id: 'MessageTimeline' });

export function messageActionRoutes(ctx: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET', url: '/v1/messages/:id/timeline', scope: 'read', tag: 'messages', params: idParams,
      summary: 'A message\'s timeline: how it was accepted (listener, client, user or key), each delivery attempt (MX host, TLS, response) and each event (deliveries, opens, clicks, unsubscribes)',
      responses: { 200: { description: 'the timeline', schema: timelineBody }, 404: { description: 'no such message in this account', schema: errorBody } },
      handler: async (r) => {
        const view = await accountMessage(ctx, r.key.account, r.params.id);
        const events = await ctx.store.listEvents({ account: r.key.account, messageId: view.id, limit: MAX_TIMELINE_EVENTS });
        return { status: 200, body: { ...renderTimeline(view), events: events.map(renderWebhookEvent) } };
      },
    }),
    defineRoute({
      method: 'POST', url: '/v1/messages/bulk', scope: 'admin', tag: 'messages', body: bulkBody,
      summary: 'Hold, release, retry now or delete up to 500 messages of the account; each id is answered on its own',
      responses: { 200: { description: 'one result per id, in order', schema: bulkResult }, 422: { description: 'invalid fields', schema: errorBody }, ...heavyResponses },
      handler: async (r) => {
        const ids = new Set(r.body.ids);
        ctx.heavyWork.take(r.key.account, ids.size);
        const results = [];
        for (const id of ids) results.push({ id, ...(await applyAction(ctx, r.key.account, id, r.body.action)) });
        return { status: 200, body: { results } };
      },
    }),
  ];
}

async function applyAction(ctx: RouteContext, account: string, id: string, action: BulkAction): Promise<{ status: 'ok' | 'not_found' | 'unchanged'; recipients: number }> {
  const meta = await ctx.store.getMessageMeta(id);
  if (meta?.account !== account) return { status: 'not_found', recipients: 0 };
  let n: number;
  switch (action) {
    case 'hold': n = await ctx.store.hold(id); break;
    case 'release': n = await ctx.store.release(id, ctx.clock.now()); break;
    case 'retry': n = await ctx.store.retry(id, ctx.clock.now()); break;
    case 'delete': {
      const view = await ctx.store.getMessage(id);
      if (!(await ctx.store.deleteMessage(id))) return { status: 'not_found', recipients: 0 };
      return { status: 'ok', recipients: view?.recipients.length ?? 0 };
    }
  }
  return { status: n > 0 ? 'ok' : 'unchanged', recipients: n };
}

function renderTimeline(view: MessageView) {
  const recipients = [...view.recipients].sort((a, b) => a.rcptId - b.rcptId);
  return {
    id: view.id,
    accepted: {
      at: isoTime(view.receivedAt)!, listener: view.origin.listener, client_ip: view.origin.clientIp, user: view.origin.user,
      node: view.origin.node ?? null, api_key: apiKeyOf(view), subject: view.subject,
      from: view.mailFrom, size: view.size, stream: view.meta.stream, tags: view.meta.tags,
    },
    recipients: recipients.map((rc, i) => ({
      id: recipientId(view.id, i), email: rc.address, status: rc.state, attempts: rc.attempts, next_attempt_at: isoTime(rc.nextAttemptAt),
    })),
    attempts: [...view.attempts].sort((a, b) => a.at - b.at).map((a) => ({
      at: isoTime(a.at)!, recipient: a.address, status: a.status, mx_host: a.host,
      remote_ip: a.remoteIp ?? null, duration_ms: a.durationMs ?? null, source: a.source ?? null, response: a.response,
      tls: a.tls ? { version: a.tls.version, cipher: a.tls.cipher, verified: a.tls.verified, policy: a.tls.policy, level: a.tls.level } : null,
    })),
  };
}

/** The submitting API key: kept since the timeline (origin.apiKey); before that an HTTP message's user was its key id. */
function apiKeyOf(view: MessageView): string | null {
  if (view.origin.apiKey) return view.origin.apiKey;
  return view.origin.listener === 'http' ? view.origin.user : null;
}
