// GET /v1/messages/:id/content (issue 12, the dashboard's message page): a message's header
// fields and a plain-text preview, parsed from the stored body with mailparser. Only text leaves
// here (an HTML-only message is converted to text), so the page never renders the sender's HTML.
// At most MAX_READ bytes of the body are read: a large message shows its headers and the start of
// its text. A body is kept until every recipient is final (delivered mail has none): 410 then.
import { z } from 'zod/v4';
import { ApiError } from '../../ingress/http/api-error.js';
import { NotFoundError } from '../../errors.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, idParams } from '../schemas.js';
import type { RouteContext } from './context.js';

const MAX_READ = 1024 * 1024;
const MAX_TEXT = 64 * 1024;
const MAX_HEADER_VALUE = 4096;

const contentBody = z.object({
  id: z.string(),
  headers: z.array(z.object({ name: z.string(), value: z.string() })).describe('in message order, decoded (RFC 2047), each value cut at 4096 characters'),
  subject: z.string().nullable(),
  text: z.string().describe('the text part, or the HTML part converted to text; at most 65536 characters'),
  truncated: z.boolean().describe('the message or its text was longer than what is shown'),
  attachments: z.array(z.object({ filename: z.string().nullable(), content_type: z.string(), size: z.number().int() })),
}).meta({ id: 'MessageContent' });

export function messageContentRoutes(ctx: RouteContext): ApiRoute[] {
  return [defineRoute({
    method: 'GET', url: '/v1/messages/:id/content', scope: 'read', tag: 'messages', params: idParams,
    summary: 'A message\'s header fields and a plain-text preview (never HTML), while its body is kept (until every recipient is final)',
    responses: {
      200: { description: 'the content', schema: contentBody },
      404: { description: 'no such message in this account', schema: errorBody },
      410: { description: 'the body is no longer kept (every recipient is final)', schema: errorBody },
    },
    handler: async (r) => {
      const meta = await ctx.store.getMessageMeta(r.params.id);
      if (meta?.account !== r.key.account) throw new ApiError(404, 'not_found', 'No such message');
      const { bytes, complete } = await readPrefix(ctx, r.params.id);
      const { simpleParser } = await import('mailparser'); // loaded on first use (bench/README.md "Memory")
      const mail = await simpleParser(bytes, { skipTextLinks: true, skipTextToHtml: true, skipImageLinks: true });
      const text = mail.text ?? '';
      return {
        status: 200,
        body: {
          id: r.params.id,
          headers: mail.headerLines.map((h) => ({ name: h.key, value: headerValue(h.line).slice(0, MAX_HEADER_VALUE) })),
          subject: mail.subject ?? null,
          text: text.slice(0, MAX_TEXT),
          truncated: !complete || text.length > MAX_TEXT,
          attachments: mail.attachments.map((a) => ({ filename: a.filename ?? null, content_type: a.contentType, size: a.size })),
        },
      };
    },
  })];
}

/** The first MAX_READ bytes of the stored message; 410 when its body is gone. */
async function readPrefix(ctx: RouteContext, id: string): Promise<{ bytes: Buffer; complete: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = ctx.store.readBody(id);
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= MAX_READ) return { bytes: Buffer.concat(chunks).subarray(0, MAX_READ), complete: false };
    }
  } catch (err) {
    if (err instanceof NotFoundError) throw new ApiError(410, 'content_gone', 'The message body is no longer kept');
    throw err;
  } finally {
    stream.destroy();
  }
  return { bytes: Buffer.concat(chunks), complete: true };
}

/** "Subject: =?utf-8?…" → the decoded value after the colon, unfolded. */
function headerValue(line: string): string {
  const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
  try { return decodeWords(value); } catch { return value; }
}

const decodeWords = (s: string) => s.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, charset: string, enc: string, data: string) => {
  const bytes = enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64')
    : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (__, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  return new TextDecoder(charset.toLowerCase(), { fatal: false }).decode(bytes);
});
