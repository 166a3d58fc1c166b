// Owns what a simulated mailbox provider is, as data: the zod schema of a profile (behaviours and
// the reply each one gives), and resolving a profile from a stock name, a file's object and
// overrides. A profile says *what* the provider does; provider-state.ts decides *when*.
//
// Replies are `{ code, text }`; `text` may hold several lines (one per reply line, each carrying
// its enhanced status code, as the providers write them) and these placeholders:
//   {ip} client IP, {sender} MAIL FROM, {rcpt} recipient, {domain} its domain,
//   {host} the provider's hostname, {id} a fresh transaction id (like Gmail's "- gsmtp" tokens).
import { z } from 'zod';
import { parseDurationMs } from '../config/units.js';
import { RelayError } from '../errors.js';
import { STOCK_PROFILES } from './stock-profiles.js';

export const replySchema = z.object({
  code: z.number().int().min(400).max(599),
  text: z.string().min(1),
});
export type SimReply = z.infer<typeof replySchema>;

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === null) { ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a duration: ${String(v)} (e.g. "500ms", "30s", "1m")` }); return z.NEVER; }
  return ms;
});
const stage = z.enum(['connect', 'mail', 'rcpt', 'data']);
const patterns = z.array(z.string().min(1)).default([]);

export const profileSchema = z.object({
  name: z.string().min(1),
  hostname: z.string().min(1).describe('the name in the greeting and {host}'),
  banner: z.string().default('').describe('greeting text after "ESMTP"'),
  starttls: z.boolean().default(true).describe('offer STARTTLS with a self-signed certificate'),
  maxMessageBytes: z.number().int().positive().default(150 * 1024 * 1024),

  ratePerMinute: z.number().positive().nullable().default(null)
    .describe('messages accepted per client IP per minute (scaled to rateWindow); null: no limit'),
  rateWindow: duration.default('1m').describe('sliding window the rate is counted over'),
  rateLimitAt: stage.default('data').describe('the command that gets the rate-limit reply'),
  rateLimitReply: replySchema,

  recipientRatePerMinute: z.number().positive().nullable().default(null)
    .describe('messages accepted per recipient per minute (scaled to rateWindow); null: no limit'),
  recipientRateReply: replySchema,

  maxConnectionsPerIp: z.number().int().positive().nullable().default(null)
    .describe('concurrent sessions per client IP; extra ones get connectionLimitReply at the greeting'),
  connectionLimitReply: replySchema,

  greylistDelay: duration.nullable().default(null)
    .describe('first attempt of a (client IP, sender, recipient) triple is refused; accepted this long after it'),
  greylistReply: replySchema,

  unknownRecipients: patterns.describe('addresses that do not exist: globs; "bounce+*@" (ending in @) matches any domain'),
  unknownRecipientReply: replySchema,

  blockedIps: patterns.describe('client IPs or CIDRs refused by policy'),
  blockedIpAt: z.enum(['connect', 'mail']).default('mail'),
  blockedIpReply: replySchema,
  blockedSenders: patterns.describe('MAIL FROM globs refused by policy'),
  blockedSenderReply: replySchema,
  blockedContent: patterns.describe('case-insensitive substrings of the message that get it refused at DATA'),
  blockedContentReply: replySchema,

  dataDelay: duration.default(0).describe('wait this long before the final reply to DATA'),
  magicAddresses: z.boolean().default(true)
    .describe('SES-like local parts: success@, bounce@, ooto@, complaint@, suppressionlist@ (any domain)'),
}).strict();

/** A resolved profile: durations in ms. */
export type SimProfile = z.output<typeof profileSchema>;
/** A profile as written (YAML/JSON, overrides): durations as "30s" or seconds. */
export type SimProfileInput = z.input<typeof profileSchema>;
export type SimProfileOverrides = Partial<Omit<SimProfileInput, 'name'>>;

export const STOCK_PROFILE_NAMES = Object.keys(STOCK_PROFILES);

/** A profile that does not validate (the CLI exits 2 with it, like any usage error). */
export class SimProfileError extends RelayError {
  constructor(message: string) { super('ERR_USAGE', message); }
}

/**
 * A stock profile's name, or a profile object (which may name a stock profile in `extends`), with
 * overrides on top → a validated profile. Errors name the bad key.
 */
export function resolveProfile(profile: string | (SimProfileOverrides & { extends?: string; name?: string }), overrides: SimProfileOverrides = {}): SimProfile {
  const own = typeof profile === 'string' ? { extends: profile } : profile;
  const { extends: base, ...fields } = own;
  let start: Record<string, unknown> = {};
  if (base !== undefined) {
    const stock = STOCK_PROFILES[base];
    if (!stock) throw new SimProfileError(`unknown stock profile "${base}" (one of: ${STOCK_PROFILE_NAMES.join(', ')})`);
    start = { ...stock };
  }
  const merged = { ...start, ...fields, ...overrides };
  const parsed = profileSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(profile)'}: ${i.message}`);
    throw new SimProfileError(`invalid simulator profile "${String(merged.name ?? base ?? '?')}": ${problems.join('; ')}`);
  }
  return parsed.data;
}
