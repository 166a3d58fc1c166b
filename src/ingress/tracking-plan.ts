// Owns the decision to track a message at acceptance, for SMTP (accept.ts) and HTTP
// (http/submission.ts) alike, and the call that rewrites it (mime-tracking.ts) before it is
// DKIM-signed. Tracking is opt-in: what the message asks (X-Postlane-Track, the API's `track`),
// else the configured defaults (tracking.opens/clicks) for the streams they apply to. A pixel or a
// link names one person, so a tracked message with several recipients is first split into one
// copy per recipient (recipient-split.ts) and each copy is planned and rewritten on its own; a
// plan asked for several recipients anyway is refused (null, logged). Never rewritten: mailto: and other
// non-http links, the List-Unsubscribe URLs of the message, and links to this relay's own /u/
// and /t/ endpoints. A message that cannot be parsed is sent untracked (logged), never refused.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { LinkBaseOf } from '../accounts/link-base.js';
import type { Secrets } from '../events/secret-ring.js';
import { clickUrl, isServableToken, isTrackableUrl, openPixelUrl, trackingToken } from '../events/tracking-token.js';
import type { Stream } from './stream-field.js';
import type { TrackRequest } from './track-field.js';

/** config.tracking: what a message that does not say gets, in which streams. */
export interface TrackingDefaults { opens: boolean; clicks: boolean; streams: readonly Stream[] }

export interface TrackingSettings {
  secrets: Secrets;
  /** The links' base URL per account: publicUrl, or its tracking domain (accounts/link-base.ts). */
  links: LinkBaseOf;
  defaults: TrackingDefaults;
  logger: Logger;
}

export const trackingSettings = (config: Pick<Config, 'tracking'>, secrets: Secrets, links: LinkBaseOf, logger: Logger): TrackingSettings =>
  ({ secrets, links, defaults: config.tracking, logger });

export interface TrackingSubject {
  id: string;
  account: string;
  recipients: readonly string[];
  stream: Stream;
  /** What the message asked; null: nothing (the defaults apply). */
  asked: TrackRequest | null;
}

export interface TrackingPlan { id: string; account: string; recipient: string; opens: boolean; clicks: boolean }

/** What tracking a message in this stream that asked this gets, whoever its recipients; null: none. */
export function trackingWanted(s: TrackingSettings | undefined, m: Pick<TrackingSubject, 'stream' | 'asked'>): { opens: boolean; clicks: boolean } | null {
  if (!s) return null;
  const byDefault = s.defaults.streams.includes(m.stream);
  const opens = m.asked?.opens ?? (byDefault && s.defaults.opens);
  const clicks = m.asked?.clicks ?? (byDefault && s.defaults.clicks);
  return opens || clicks ? { opens, clicks } : null;
}

/** The tracking a message (a copy for one recipient) gets; null: none. */
export function trackingPlan(s: TrackingSettings, m: TrackingSubject): TrackingPlan | null {
  const wanted = trackingWanted(s, m);
  if (!wanted) return null;
  const { opens, clicks } = wanted;
  const recipients = new Set(m.recipients.map((r) => r.toLowerCase()));
  if (recipients.size !== 1) {
    s.logger.warn({ event: 'tracking.skipped', id: m.id, rcpts: recipients.size }, 'tracking planned for several recipients (not split): sent without tracking');
    return null;
  }
  return { id: m.id, account: m.account, recipient: m.recipients[0]!, opens, clicks };
}

/** The message with the plan's pixel and links; the message as it was when it cannot be parsed. */
export async function applyTracking(s: TrackingSettings, plan: TrackingPlan, message: Buffer): Promise<Buffer> {
  const ref = { account: plan.account, messageId: plan.id, recipient: plan.recipient };
  const baseUrl = await s.links.of(plan.account);
  const kept = keptUrls([baseUrl, s.links.publicBase], headerOf(message));
  const wrapLink = (url: string): string | null => {
    if (!isTrackableUrl(url) || kept.exact.has(url) || kept.prefixes.some((p) => url.startsWith(p))) return null;
    const token = trackingToken(s.secrets, { kind: 'click', ...ref, url });
    return isServableToken(token) ? clickUrl(baseUrl, token) : null;
  };
  // mailsplit, htmlparser2 and libmime's charset tables: loaded at the first tracked message, not at
  // start (tracking is opt-in; bench/README.md "ninth session").
  const { trackMime } = await import('./mime-tracking.js');
  try {
    const r = await trackMime(message, {
      pixelUrl: plan.opens ? openPixelUrl(baseUrl, trackingToken(s.secrets, { kind: 'open', ...ref })) : null,
      wrapLink: plan.clicks ? wrapLink : null,
    });
    s.logger.debug({ event: 'tracking.applied', id: plan.id, parts: r.parts, links: r.links, skipped: r.skipped }, 'tracking added');
    if (r.skipped > 0) s.logger.warn({ event: 'tracking.charset_skipped', id: plan.id, parts: r.skipped }, 'HTML part in a charset that cannot be edited: left untracked');
    return r.message;
  } catch (err) {
    s.logger.warn({ event: 'tracking.failed', id: plan.id, err: (err as Error)?.message }, 'message could not be parsed for tracking: sent untracked');
    return message;
  }
}

const headerOf = (message: Buffer): string => {
  const end = message.indexOf('\r\n\r\n');
  return message.subarray(0, end < 0 ? message.length : end + 2).toString('latin1');
};

/** Links never wrapped: the message's List-Unsubscribe URLs, and anything under this relay's /u/ and /t/. */
function keptUrls(baseUrls: string[], header: string): { exact: Set<string>; prefixes: string[] } {
  const prefixes = baseUrls.flatMap((b) => ['u/', 't/'].map((p) => new URL(p, b.replace(/\/*$/, '/')).href));
  const exact = new Set<string>();
  for (const [, value] of header.replace(/\r\n[ \t]+/g, ' ').matchAll(/(?:^|\r\n)list-unsubscribe[ \t]*:([^\r\n]*)/gi)) {
    for (const [, target] of value!.matchAll(/<([^>]*)>/g)) {
      try { exact.add(new URL(target!.trim()).href); } catch { /* not a URL: nothing to keep */ }
    }
  }
  return { exact, prefixes };
}
