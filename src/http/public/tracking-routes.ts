// The open and click tracking endpoints of the HTTP listener, reached without an API key by the
// pixel and links added at acceptance (ingress/tracking-plan.ts, events/tracking-token.ts):
// - GET /t/o/<token>.gif answers a 1×1 transparent GIF that no cache may keep, and records 'opened';
// - GET /t/c/<token> answers 302 to the link the token carries, and records 'clicked'.
// A token whose MAC is not ours is 404 (never a redirect: no open redirect). HEAD answers the same
// without recording anything (link checkers use it). Past tracking.eventsPerIpPerMinute from one
// client address, the GIF and redirects are still served but nothing is recorded. A failure to
// record is logged and never keeps a reader from the link.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { Secrets } from '../../events/secret-ring.js';
import type { TrackingRecorder } from '../../events/tracking.js';
import { readTrackingToken, type TrackingRef } from '../../events/tracking-token.js';
import { IpWindowLimiter } from './ip-limiter.js';

export interface TrackingRouteDeps {
  recorder: Pick<TrackingRecorder, 'record'>;
  secrets: Secrets;
  clock: Clock;
  logger: Logger;
  /** tracking.eventsPerIpPerMinute */
  eventsPerIpPerMinute: number;
}

/** 1×1 transparent GIF89a. */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
const NO_STORE = { 'cache-control': 'no-store, no-cache, must-revalidate, private, max-age=0', pragma: 'no-cache', expires: '0' };

const notFound = (res: FastifyReply) => res.code(404).headers(NO_STORE).type('text/plain').send('not found\n');

/** The link of a click token, parsed again before it becomes a Location (defence in depth). */
function redirectTarget(ref: TrackingRef): string | null {
  try {
    const url = new URL(ref.url!);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Records a GET's open or click unless its client is over the limit; never throws. */
function recorderOf(d: TrackingRouteDeps) {
  const limiter = new IpWindowLimiter(d.clock, d.eventsPerIpPerMinute);
  return async (req: FastifyRequest, ref: TrackingRef): Promise<void> => {
    if (req.method !== 'GET') return;
    const allowed = limiter.take(req.ip);
    if (allowed !== 'ok') {
      if (allowed === 'first-over') d.logger.warn({ event: 'tracking.rate_limited', ip: req.ip }, 'tracking events from this address not recorded for the rest of the minute');
      return;
    }
    try {
      await d.recorder.record(ref, { ip: req.ip, userAgent: req.headers['user-agent'] ?? null });
    } catch (err) {
      d.logger.error({ event: 'tracking.record_failed', account: ref.account, message: ref.messageId, kind: ref.kind, err: (err as Error)?.message }, 'could not record an open or click');
    }
  };
}

export async function trackingRoutes(app: FastifyInstance, d: TrackingRouteDeps): Promise<void> {
  const record = recorderOf(d);

  app.route<{ Params: { file: string } }>({
    method: ['GET', 'HEAD'], url: '/t/o/:file',
    handler: async (req, res) => {
      const file = req.params.file;
      const ref = file.endsWith('.gif') ? readTrackingToken(d.secrets, file.slice(0, -4), 'open') : null;
      if (!ref) return notFound(res);
      await record(req, ref);
      return res.code(200).headers(NO_STORE).type('image/gif').send(PIXEL_GIF);
    },
  });

  app.route<{ Params: { token: string } }>({
    method: ['GET', 'HEAD'], url: '/t/c/:token',
    handler: async (req, res) => {
      const ref = readTrackingToken(d.secrets, req.params.token, 'click');
      const target = ref ? redirectTarget(ref) : null;
      if (!ref || !target) {
        d.logger.info({ event: 'tracking.invalid_token', ip: req.ip }, 'tracking link with a token that is not ours');
        return notFound(res);
      }
      await record(req, ref);
      return res.code(302).headers({ ...NO_STORE, location: target, 'referrer-policy': 'no-referrer' }).send();
    },
  });
}
