// GET /v1/messages/:id/content (issue 12, the dashboard's message page): a waiting message's header
// fields and its text part, for a safe preview, and its HTML part as a string (the dashboard shows
// it only inside a sandboxed iframe without scripts). At most MAX_BYTES of the stored body are read;
// a message whose recipients are all final has no body any more (410). Another account's message
// is a 404, like an unknown id.
import { Readable } from 'node:stream';
import { simpleParser } from 'mailparser';
import { z } from 'zod/v4';
import { ApiError } from '../../ingress/http/api-error.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, idParams } from '../schemas.js';
import type { RouteContext } from './context.js';

const MAX_BYTES = 512 * 1024;
const MAX_HEADERS = 200;
const MAX_HEADER_CHARS = 2000;
const MAX_TEXT_CHARS = 100_000;
const MAX_HTML_CHARS = 200_000;

const contentBody = z.object({
  headers: z.array(z.object({ name: z.string(), value: z.string() })).describe(`in message order, unfolded; at most ${MAX_HEADERS}`),
  text: z.string().nullable().describe('the text part (decoded), or null'),
  html: z.string().nullable().describe('the HTML part as sent: never render it unsandboxed'),
  truncated: z.boolean().describe(`the body is longer than the ${MAX_BYTES} bytes read, or a part was cut`),
}).meta({ id: 'MessageContent' });

export function messageContentRoutes(ctx: RouteContext): ApiRoute[] {
  return [defineRoute({
    method: 'GET', url: '/v1/messages/:id/content', scope: 'read', tag: 'messages', params: idParams,
    summary: 'A waiting message\'s header fields, text part and HTML part (for a preview; the body is removed once every recipient is final)',
    responses: {
      200: { description: 'the content', schema: contentBody },
      404: { description: 'no such message in this account', schema: errorBody },
      410: { description: 'every recipient is final: the body was removed', schema: errorBody },
    },
    handler: async (r) => {
      const meta = await ctx.store.getMessageMeta(r.params.id);
      if (meta?.account !== r.key.account) throw new ApiError(404, 'not_found', 'No such message');
      const head = await readHead(ctx.store.readBody(r.params.id), MAX_BYTES).catch(() => null);
      if (!head) throw new ApiError(410, 'content_gone', 'The message body is removed once every recipient is final');
      return { status: 200, body: await parseContent(head.bytes, head.truncated) };
    },
  })];
}

/** The first `max` bytes of a stream, and whether there was more. */
async function readHead(stream: Readable, max: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    chunks.push(buf);
    size += buf.length;
    if (size > max) { stream.destroy(); return { bytes: Buffer.concat(chunks).subarray(0, max), truncated: true }; }
  }
  return { bytes: Buffer.concat(chunks), truncated: false };
}

async function parseContent(raw: Buffer, cut: boolean) {
  const mail = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const headers = mail.headerLines.slice(0, MAX_HEADERS).map((h) => {
    const colon = h.line.indexOf(':');
    const name = colon > 0 ? h.line.slice(0, colon) : h.key;
    return { name, value: h.line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim().slice(0, MAX_HEADER_CHARS) };
  });
  const text = typeof mail.text === 'string' ? mail.text : null;
  const html = typeof mail.html === 'string' ? mail.html : null;
  return {
    headers,
    text: text?.slice(0, MAX_TEXT_CHARS) ?? null,
    html: html?.slice(0, MAX_HTML_CHARS) ?? null,
    truncated: cut || (text?.length ?? 0) > MAX_TEXT_CHARS || (html?.length ?? 0) > MAX_HTML_CHARS || mail.headerLines.length > MAX_HEADERS,
  };
}
