// The one-click unsubscribe endpoint of the HTTP listener (RFC 8058), reached without an API key
// by the links in List-Unsubscribe (events/unsubscribe.ts):
// - POST /u/<token> with List-Unsubscribe=One-Click (form-urlencoded or multipart, as mailbox
//   providers send it) unsubscribes at once and answers 200, no redirect, no page to follow;
// - GET /u/<token> only shows a page with a button (mail scanners follow GET links: a GET alone
//   never unsubscribes); the button POSTs the same body.
// A token whose MAC is not ours gets 404, never a hint. POSTs are rate limited per client address.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { Secrets } from '../../events/secret-ring.js';
import { readUnsubscribeToken, recordUnsubscribe, type UnsubscribeStore } from '../../events/unsubscribe.js';
import { isQueueUnavailable } from '../../errors.js';
import { IpWindowLimiter } from './ip-limiter.js';

export interface UnsubscribeRouteDeps { store: UnsubscribeStore; secrets: Secrets; clock: Clock; logger: Logger }

const POSTS_PER_WINDOW = 30;
const ONE_CLICK = /(^|&|\r?\n)List-Unsubscribe=One-Click(&|\r?\n|$)|name="List-Unsubscribe"\r?\n\r?\nOne-Click\b/;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title: string, body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
  `<title>${title}</title><style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}` +
  `button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#1f4fd1;color:#fff;cursor:pointer}</style></head>` +
  `<body>${body}</body></html>`;

function html(res: FastifyReply, status: number, content: string) {
  return res.code(status).headers({
    'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  }).send(content);
}

export async function unsubscribeRoutes(app: FastifyInstance, d: UnsubscribeRouteDeps): Promise<void> {
  const limiter = new IpWindowLimiter(d.clock, POSTS_PER_WINDOW);
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'], { parseAs: 'string', bodyLimit: 16 * 1024 },
    (_req, body, done) => done(null, body));
  const invalid = (res: FastifyReply) => html(res, 404, page('Link not valid', '<h1>This link is not valid</h1><p>It may have been mistyped or cut short.</p>'));

  app.get<{ Params: { token: string } }>('/u/:token', async (req, res) => {
    const ref = readUnsubscribeToken(d.secrets, req.params.token);
    if (!ref) return invalid(res);
    return html(res, 200, page('Unsubscribe', `<h1>Unsubscribe</h1><p>Stop newsletters and other bulk mail to <b>${escape(ref.recipient)}</b>?</p>` +
      '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>'));
  });

  app.post<{ Params: { token: string } }>('/u/:token', async (req, res) => {
    if (!limiter.allow(req.ip)) {
      d.logger.warn({ event: 'unsubscribe.rate_limited', ip: req.ip }, 'unsubscribe POSTs rate limited');
      return res.code(429).header('retry-after', '60').type('text/plain').send('too many requests\n');
    }
    const ref = readUnsubscribeToken(d.secrets, req.params.token);
    if (!ref) {
      d.logger.info({ event: 'unsubscribe.invalid_token', ip: req.ip }, 'unsubscribe with a token that is not ours');
      return invalid(res);
    }
    if (typeof req.body !== 'string' || !ONE_CLICK.test(req.body)) return res.code(400).type('text/plain').send('expected List-Unsubscribe=One-Click\n');
    const fromPage = (req.headers.accept ?? '').includes('text/html');
    let outcome: Awaited<ReturnType<typeof recordUnsubscribe>>;
    try {
      outcome = await recordUnsubscribe(d.store, d.clock.now(), ref, { method: fromPage ? 'page' : 'one-click', ip: req.ip, userAgent: req.headers['user-agent'] ?? null });
    } catch (err) {
      d.logger.error({ event: 'unsubscribe.failed', account: ref.account, err: (err as Error)?.message }, 'could not record an unsubscribe');
      return res.code(isQueueUnavailable(err) ? 503 : 500).header('retry-after', '30').type('text/plain').send('try again later\n');
    }
    if (outcome === 'gone') return invalid(res);
    d.logger.info({ event: 'unsubscribe.recorded', account: ref.account, message: ref.messageId, outcome, method: fromPage ? 'page' : 'one-click' }, 'unsubscribed');
    if (fromPage) return html(res, 200, page('Unsubscribed', `<h1>You are unsubscribed</h1><p><b>${escape(ref.recipient)}</b> will get no more bulk mail from this sender.</p>`));
    return res.code(200).type('text/plain').send('unsubscribed\n');
  });
}
