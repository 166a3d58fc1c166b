// POST /v1/verify: address verification (src/verify/, docs/verification.md) for the key's account:
// one address ({address}) answered with its result, or up to 100 ({addresses}) answered with
// {data: [results]} in the same order. Scope send: it is what an application checks before it
// sends (a send key already learns at submission whether a recipient is suppressed). A malformed
// address is a verdict (undeliverable, syntax_invalid), not a 422; only the request's shape is.
// Every address costs DNS queries, so an account has a per-minute budget (429 + Retry-After).
import { z } from 'zod/v4';
import { ApiError } from '../../ingress/http/api-error.js';
import { MAX_BATCH, REASON_RULES, VERDICTS, type ReasonCode, type Verdict } from '../../verify/index.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody } from '../schemas.js';
import type { RouteContext } from './context.js';

const addressText = z.string().max(1000).describe('the address as given; its syntax is judged by the verification');

const verifyRequest = z.object({
  address: addressText.optional().describe('one address: the answer is its result'),
  addresses: z.array(addressText).min(1).max(MAX_BATCH).optional().describe(`up to ${MAX_BATCH} addresses: the answer is {data: [results]} in this order`),
}).strict()
  .refine((b) => (b.address === undefined) !== (b.addresses === undefined), { message: 'give either address or addresses', path: ['address'] })
  .meta({ id: 'VerifyRequest' });

const reasonCode = z.enum(REASON_RULES.map((r) => r.code) as [ReasonCode, ...ReasonCode[]]);

export const verifyResultBody = z.object({
  address: z.string(),
  normalized: z.string().nullable().describe('the domain lower-cased; null when the syntax is invalid'),
  verdict: z.enum(VERDICTS as [Verdict, ...Verdict[]]),
  reasons: z.array(z.object({ code: reasonCode, detail: z.string() })).describe('worst first: the first explains the verdict'),
  checks: z.object({
    syntax: z.object({ valid: z.boolean(), smtputf8: z.boolean().describe('a UTF-8 address (RFC 6531)') }),
    domain: z.enum(['exists', 'not_found', 'temporary_failure', 'not_checked']),
    mx: z.object({ kind: z.enum(['mx', 'implicit', 'null', 'none']), hosts: z.array(z.string()) }),
    role: z.boolean(), disposable: z.boolean(),
    suppressed: z.object({ scope: z.enum(['all', 'broadcast']), reason: z.string(), since: z.string() }).nullable(),
    history: z.object({
      delivered: z.number().int(), hard_bounces: z.number().int(), soft_bounces: z.number().int(), complaints: z.number().int(),
      last_hard_bounce: z.string().nullable(), last_delivered: z.string().nullable(),
    }).nullable().describe('this account\'s events for the address still kept (events.retention); null when not read (verify.history: false, or invalid syntax)'),
    catch_all: z.union([z.boolean(), z.literal('not_checked')]).describe('only the SMTP probe can tell (verify.smtpProbe); otherwise not_checked'),
    smtp_probe: z.object({ outcome: z.enum(['accepted', 'rejected', 'inconclusive', 'skipped']), host: z.string(), detail: z.string() }).nullable()
      .describe('the SMTP RCPT probe, when verify.smtpProbe is on and the other checks left something to learn; else null'),
  }),
}).meta({ id: 'VerifyResult' });

export function verifyRoutes(ctx: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'POST', url: '/v1/verify', scope: 'send', tag: 'verify', body: verifyRequest,
      summary: 'Verify addresses: syntax, domain, MX, role, disposable, this account\'s suppressions and history → a verdict with reasons',
      responses: {
        200: { description: 'the result ({address}), or {data: [results]} ({addresses})', schema: z.union([verifyResultBody, z.object({ data: z.array(verifyResultBody) })]) },
        422: { description: 'invalid fields (neither or both of address/addresses, over 100 addresses)', schema: errorBody },
        429: { description: 'the account\'s verifications per minute are used up (verify.perAccountPerMinute); Retry-After', schema: errorBody },
      },
      handler: async (r) => {
        const addresses = r.body.addresses ?? [r.body.address!];
        const charged = ctx.verifier.take(r.key.account, addresses.length);
        if (!charged.ok) throw new ApiError(429, 'rate_limited', 'Too many verifications for this account, try again later', [], charged.retryAfterSeconds);
        const results = await ctx.verifier.verify(r.key.account, addresses);
        return { status: 200, body: r.body.addresses ? { data: results } : results[0] };
      },
    }),
  ];
}
