// The /v1/messages routes: send (JSON, raw, batch), read one message with its per-recipient
// history, and search. Another account's message is answered 404, exactly like an unknown id,
// so a key learns nothing about messages it does not own.
import { z } from 'zod/v4';
import { ApiError, zodFields } from '../../ingress/http/api-error.js';
import { prepareMessage, prepareRawMessage, type PreparedMessage } from '../../ingress/http/compose.js';
import { batchRequest, InvalidItem, rawMessageRequest, sendMessageRequest, type SendMessageRequest } from '../../ingress/http/message-request.js';
import { recipientId, type Queued, type SubmissionContext } from '../../ingress/http/submission.js';
import type { MessageView } from '../../store/store.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { decodeCursor, encodeCursor, errorBody, idParams, isoTime, limitParam, page, queryTime } from '../schemas.js';
import type { RouteContext } from './context.js';
import { heavyReadResponses } from '../heavy-work.js';

const queuedBody = z.object({
  id: z.string().describe('the message (queue) id'),
  recipients: z.array(z.object({
    email: z.string(), id: z.string().describe('<message id>.<index>, stable (the message is message_id)'),
    message_id: z.string().describe('the stored message this recipient is in: id, or its own copy\'s id when the message was split into one copy per recipient (tracking or one-click unsubscribe)'),
    status: z.enum(['queued', 'suppressed']).describe('suppressed: on the account\'s suppression list for this stream; not sent (event "suppressed")'),
    suppression: z.object({ reason: z.string(), since: z.string() }).optional().describe('why, when suppressed'),
  })),
}).meta({ id: 'Queued' });

const batchResult = z.object({
  index: z.number().int(),
  status: z.number().int().describe('202, or the status this message alone would have had'),
  id: z.string().optional(),
  recipients: queuedBody.shape.recipients.optional(),
  error: errorBody.shape.error.optional(),
}).meta({ id: 'BatchResult' });

const tlsView = z.object({ version: z.string().nullable(), cipher: z.string().nullable(), verified: z.boolean(), policy: z.string(), level: z.string() }).nullable();
const messageBody = z.object({
  id: z.string(), from: z.string(), received_at: z.string(), size: z.number(), stream: z.string(),
  tags: z.array(z.string()), metadata: z.record(z.string(), z.string()),
  recipients: z.array(z.object({
    id: z.string(), email: z.string(), status: z.string(), attempts: z.number(), next_attempt_at: z.string().nullable(), last_response: z.string().nullable(),
    history: z.array(z.object({
      at: z.string(), status: z.string(), mx_host: z.string().nullable(),
      remote_ip: z.string().nullable().describe('the IP address the deciding (or last failed) session connected to; null when no host was reached'),
      duration_ms: z.number().nullable().describe('how long the attempt took (MX lookup and sessions); null for older attempts'),
      response: z.string(), tls: tlsView,
    })),
  })),
}).meta({ id: 'Message' });

const summary = z.object({
  id: z.string(), from: z.string(), received_at: z.string(), size: z.number(), stream: z.string(), tags: z.array(z.string()),
  subject: z.string().nullable().describe('the decoded Subject, at most 200 characters; null: none, or accepted before it was kept'),
  recipients: z.array(z.object({ email: z.string(), status: z.string() })),
}).meta({ id: 'MessageSummary' });

const messagePage = page(summary, 'MessagePage');

const searchQuery = z.object({
  status: z.enum(['queued', 'deferred', 'delivering', 'held', 'delivered', 'bounced', 'expired', 'suppressed']).optional(),
  recipient: z.string().max(254).optional(),
  tag: z.string().max(128).optional(),
  from: z.string().max(254).optional(),
  subject: z.string().min(1).max(200).optional().describe('only messages whose Subject contains this (case-insensitive; % and _ are literal)'),
  since: queryTime.optional(),
  until: queryTime.optional().describe('only messages received before this (ISO 8601); with since, a time range'),
  cursor: z.string().max(500).optional(),
  limit: limitParam(500, 50),
}).strict();
const searchCursor = z.object({ r: z.number(), i: z.string() });

const sendErrors = {
  401: { description: 'missing or invalid API key', schema: errorBody },
  403: { description: 'the key lacks the send scope', schema: errorBody },
  409: { description: 'a request with this Idempotency-Key is still in progress', schema: errorBody },
  413: { description: 'body or message too large', schema: errorBody },
  422: { description: 'invalid fields (nothing queued), or an Idempotency-Key reused with another body', schema: errorBody },
  429: { description: 'quota or rate limit reached (Retry-After)', schema: errorBody },
  503: { description: 'the queue is unavailable (Retry-After): nothing was queued', schema: errorBody },
};

const accepted = (q: Queued) => ({ status: 202, body: q });
/**
 * Queues a prepared message. The send routes' handlers are not async: they prepare the message and
 * return this, so that while the store answers nothing keeps the request (`r`) and its body, and the
 * prepared message lets go of its content once built (PreparedMessage.release; api27).
 */
const queue = async (ctx: RouteContext, msg: PreparedMessage, sub: SubmissionContext) => accepted(await ctx.submission.submit(msg, sub));
const submissionContext = (r: SubmissionContext): SubmissionContext => ({ key: r.key, clientIp: r.clientIp, secure: r.secure, tls: r.tls });

export function messageRoutes(ctx: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'POST', url: '/v1/messages', scope: 'send', tag: 'messages', idempotent: true, body: sendMessageRequest,
      summary: 'Send a message: Postlane builds the MIME, signs it and queues it',
      responses: { 202: { description: 'queued', schema: queuedBody }, ...sendErrors },
      handler: (r) => queue(ctx, prepareMessage(r.body, ctx.composeLimits, ctx.clock.now()), submissionContext(r)),
    }),
    defineRoute({
      method: 'POST', url: '/v1/messages/raw', scope: 'send', tag: 'messages', idempotent: true, body: rawMessageRequest,
      summary: 'Send an already-built RFC 5322 message with an envelope',
      responses: { 202: { description: 'queued', schema: queuedBody }, ...sendErrors },
      handler: (r) => queue(ctx, prepareRawMessage(r.body, ctx.composeLimits, ctx.clock.now()), submissionContext(r)),
    }),
    defineRoute({
      method: 'POST', url: '/v1/messages/batch', scope: 'send', tag: 'messages', idempotent: true, body: batchRequest,
      summary: 'Send up to 500 messages; each is validated and queued on its own',
      responses: {
        202: { description: 'every message queued', schema: z.object({ results: z.array(batchResult) }) },
        207: { description: 'some messages refused: see each result', schema: z.object({ results: z.array(batchResult) }) },
        ...sendErrors,
      },
      handler: async (r) => {
        const results = [];
        for (const [index, item] of r.body.messages.entries()) results.push(await sendOne(ctx, item, index, submissionContext(r)));
        return { status: results.every((x) => x.status === 202) ? 202 : 207, body: { results } };
      },
    }),
    defineRoute({
      method: 'GET', url: '/v1/messages/:id', scope: 'read', tag: 'messages', params: idParams,
      summary: 'A message with each recipient\'s status and delivery history (attempts, MX host, TLS, response)',
      responses: { 200: { description: 'the message', schema: messageBody }, 404: { description: 'no such message in this account', schema: errorBody } },
      handler: async (r) => ({ status: 200, body: renderMessage(await accountMessage(ctx, r.key.account, r.params.id)) }),
    }),
    defineRoute({
      method: 'GET', url: '/v1/messages', scope: 'read', tag: 'messages', query: searchQuery,
      summary: 'Search messages, newest first, paged by cursor',
      heavyRead: true,
      responses: { 200: { description: 'a page of messages', schema: messagePage }, ...heavyReadResponses },
      handler: async (r) => {
        const q = r.query;
        const before = earlier(decodeCursor(q.cursor, searchCursor), q.until);
        const found = await ctx.store.searchMessages({
          account: r.key.account, status: q.status, recipient: q.recipient, tag: q.tag, from: q.from, subject: q.subject, since: q.since,
          ...(before ? { before: { receivedAt: before.r, id: before.i } } : {}), limit: q.limit,
        });
        const last = found.at(-1);
        return {
          status: 200,
          body: {
            data: found.map((m) => ({
              id: m.id, from: m.mailFrom, received_at: isoTime(m.receivedAt), size: m.size, stream: m.stream, tags: m.tags, subject: m.subject,
              recipients: m.recipients.map((x) => ({ email: x.address, status: x.state })),
            })),
            next_cursor: found.length === q.limit && last ? encodeCursor({ r: last.receivedAt, i: last.id }) : null,
          },
        };
      },
    }),
  ];
}

/** The cursor position or the `until` bound, whichever ends the page first ('' sorts before every id). */
function earlier(cursor: { r: number; i: string } | undefined, until: number | undefined): { r: number; i: string } | undefined {
  if (until === undefined) return cursor;
  return cursor && cursor.r < until ? cursor : { r: until, i: '' };
}

async function sendOne(ctx: RouteContext, item: SendMessageRequest | InvalidItem, index: number, sub: SubmissionContext) {
  try {
    if (item instanceof InvalidItem) throw new ApiError(422, 'validation_failed', 'The message has invalid fields', zodFields({ issues: item.issues }));
    const q = await ctx.submission.submit(prepareMessage(item, ctx.composeLimits, ctx.clock.now()), sub);
    return { index, status: 202, ...q };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { index, status: err.status, error: err.toBody().error };
  }
}

/** The API view of a message: recipients in envelope order, each with its own attempts. */
export function renderMessage(view: MessageView) {
  const recipients = [...view.recipients].sort((a, b) => a.rcptId - b.rcptId);
  return {
    id: view.id, from: view.mailFrom, received_at: isoTime(view.receivedAt), size: view.size,
    stream: view.meta.stream, tags: view.meta.tags, metadata: view.meta.metadata,
    recipients: recipients.map((rc, i) => ({
      id: recipientId(view.id, i), email: rc.address, status: rc.state, attempts: rc.attempts,
      next_attempt_at: isoTime(rc.nextAttemptAt), last_response: rc.lastResponse,
      history: view.attempts.filter((a) => a.rcptId === rc.rcptId).map((a) => ({
        at: isoTime(a.at), status: a.status, mx_host: a.host, remote_ip: a.remoteIp ?? null, duration_ms: a.durationMs ?? null, response: a.response,
        tls: a.tls ? { version: a.tls.version, cipher: a.tls.cipher, verified: a.tls.verified, policy: a.tls.policy, level: a.tls.level } : null,
      })),
    })),
  };
}

/** The message `id` if it belongs to `account`; else 404 (another account's message is not told apart from none). */
export async function accountMessage(ctx: RouteContext, account: string, id: string): Promise<MessageView> {
  const meta = await ctx.store.getMessageMeta(id);
  const view = meta?.account === account ? await ctx.store.getMessage(id) : null;
  if (!view) throw new ApiError(404, 'not_found', 'No such message');
  return view;
}
