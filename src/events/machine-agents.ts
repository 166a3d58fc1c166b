// Owns the heuristics that mark an open or a click as automated (event data machine: true, with
// the rule's name as data.agent): a data table, first match wins, tested as a table. A rule is
// only listed when a person's browser or mail client cannot plausibly match it, so a false
// "machine" is rarer than a missed one. Not here: Apple's Private Relay egress ranges (a large,
// changing list published by Apple) — MPP is recognised by its user agent instead.
import type { TrackingKind } from './tracking-token.js';

export interface FetchFacts {
  kind: TrackingKind;
  userAgent: string | null;
  /** ms from the recipient's 'delivered' event to this fetch; null when no delivery is recorded. */
  msSinceDelivery: number | null;
}

export interface MachineRule {
  name: string;
  kinds: readonly TrackingKind[];
  /** Why a match is automated (documented in docs/deliverability.md). */
  why: string;
  matches(f: FetchFacts): boolean;
}

/** A click this soon after delivery is a scanner at the receiving side, not a reader. */
export const SCANNER_CLICK_WINDOW_MS = 10_000;

const ua = (pattern: RegExp) => (f: FetchFacts) => f.userAgent !== null && pattern.test(f.userAgent);

export const MACHINE_RULES: readonly MachineRule[] = [
  {
    name: 'no-user-agent', kinds: ['open', 'click'], why: 'every browser and mail client sends a User-Agent',
    matches: (f) => !f.userAgent?.trim(),
  },
  {
    name: 'apple-mpp', kinds: ['open'],
    why: 'Apple Mail Privacy Protection prefetches remote images through Apple\'s proxies, soon after delivery whether or not the message is read, with the bare user agent "Mozilla/5.0", which no browser sends',
    matches: (f) => f.userAgent?.trim() === 'Mozilla/5.0',
  },
  {
    name: 'google-image-proxy', kinds: ['open'],
    why: 'Gmail fetches images through its own proxy (user agent "… (via ggpht.com GoogleImageProxy)") and caches them: the fetch is Google\'s, not the reader\'s device, and says little about when or how often the message was read',
    matches: ua(/GoogleImageProxy/),
  },
  {
    name: 'yahoo-mail-proxy', kinds: ['open'], why: 'Yahoo Mail fetches images through its proxy (user agent "YahooMailProxy")',
    matches: ua(/YahooMailProxy/),
  },
  {
    name: 'security-scanner', kinds: ['open', 'click'],
    why: 'mail security gateways that fetch links and images to scan them name themselves: Barracuda, Mimecast, Proofpoint, Microsoft\'s BingPreview',
    matches: ua(/Barracuda|Mimecast|Proofpoint|BingPreview/i),
  },
  {
    name: 'link-preview', kinds: ['open', 'click'],
    why: 'chat and social apps fetch a link pasted into them to build a preview',
    matches: ua(/facebookexternalhit|Slackbot|Twitterbot|Discordbot|WhatsApp|TelegramBot|LinkedInBot|SkypeUriPreview/i),
  },
  {
    name: 'http-library', kinds: ['open', 'click'], why: 'scripts and scanners built on an HTTP library keep its default user agent',
    matches: ua(/^(curl|Wget|python-requests|Python-urllib|aiohttp|Go-http-client|okhttp|Java|Apache-HttpClient|axios|node-fetch|undici|libwww-perl)\b/i),
  },
  {
    name: 'headless-browser', kinds: ['open', 'click'], why: 'automated browsers (URL detonation sandboxes) announce themselves',
    matches: ua(/HeadlessChrome|PhantomJS/),
  },
  {
    name: 'too-fast', kinds: ['click'],
    why: `a link followed within ${SCANNER_CLICK_WINDOW_MS / 1000} s of delivery (or before it was recorded) was fetched by a scanner at the receiving side (Microsoft Defender Safe Links and others imitate browsers), before anyone could read the message`,
    matches: (f) => f.msSinceDelivery !== null && f.msSinceDelivery < SCANNER_CLICK_WINDOW_MS,
  },
];

/** The name of the first rule an open or click matches; null: looks like a person. */
export function machineAgent(f: FetchFacts): string | null {
  return MACHINE_RULES.find((r) => r.kinds.includes(f.kind) && r.matches(f))?.name ?? null;
}
