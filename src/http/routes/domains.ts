// /v1/domains: the account's sending domains with their DKIM keys (public parts only) and the DNS
// records to publish (src/domains/dns-records.ts), and their check against DNS (domains/domain-check.ts,
// as `postlane domains check`). Another account's domain is a 404.
import { z } from 'zod/v4';
import { expectedRecords } from '../../domains/dns-records.js';
import { checkRecords, hasProblems } from '../../domains/domain-check.js';
import { normalizeDomain } from '../../domains/domain-name.js';
import type { SendingDomain } from '../../store/store.js';
import { ApiError } from '../../ingress/http/api-error.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, isoTime } from '../schemas.js';
import type { RouteContext } from './context.js';

const domainBody = z.object({
  name: z.string(), created_at: z.string(),
  dkim: z.array(z.object({ selector: z.string(), algorithm: z.string(), state: z.string() })),
}).meta({ id: 'Domain' });
const recordBody = z.object({ purpose: z.string(), name: z.string(), type: z.string(), value: z.string(), required: z.boolean(), note: z.string().optional() });

const checkBody = z.object({
  name: z.string(), ok: z.boolean().describe('every required record is as expected'),
  checks: z.array(recordBody.extend({
    status: z.enum(['ok', 'missing', 'wrong', 'error']).describe('error: the lookup failed (not the same as missing)'),
    found: z.array(z.string()), fix: z.string().nullable(), detail: z.string().optional(),
  })),
}).meta({ id: 'DomainCheck' });

const renderDomain = (d: SendingDomain) => ({
  name: d.name, created_at: isoTime(d.createdAt),
  dkim: d.keys.map((k) => ({ selector: k.selector, algorithm: k.algorithm, state: k.state })),
});

export function domainRoutes(ctx: RouteContext): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET', url: '/v1/domains', scope: 'read', tag: 'domains', summary: 'The account\'s sending domains',
      responses: { 200: { description: 'domains', schema: z.object({ data: z.array(domainBody) }) } },
      handler: async (r) => ({ status: 200, body: { data: (await ctx.store.listDomains(r.key.account)).map(renderDomain) } }),
    }),
    defineRoute({
      method: 'GET', url: '/v1/domains/:name', scope: 'read', tag: 'domains', params: z.object({ name: z.string().min(1).max(253) }).strict(),
      summary: 'A sending domain with the DNS records to publish (DKIM, SPF, DMARC, ...)',
      responses: { 200: { description: 'the domain', schema: domainBody.extend({ records: z.array(recordBody) }) }, 404: { description: 'no such domain in this account', schema: errorBody } },
      handler: async (r) => {
        const d = await ownDomain(ctx, r.params.name, r.key.account);
        const records = expectedRecords(d.name, d.keys, d.createdAt, { hostname: ctx.hostname, domains: ctx.domains }).map(renderRecord);
        return { status: 200, body: { ...renderDomain(d), records } };
      },
    }),
    defineRoute({
      method: 'GET', url: '/v1/domains/:name/check', scope: 'read', tag: 'domains', params: z.object({ name: z.string().min(1).max(253) }).strict(),
      summary: 'Check the domain\'s DNS records (DKIM, SPF, DMARC, bounce domain, MTA-STS, TLS-RPT) now: per record ok, missing, wrong or error, with what was found and the fix',
      responses: { 200: { description: 'the checks', schema: checkBody }, 404: { description: 'no such domain in this account', schema: errorBody } },
      handler: async (r) => {
        const d = await ownDomain(ctx, r.params.name, r.key.account);
        const checks = await checkDomainDns(ctx, d);
        return {
          status: 200,
          body: {
            name: d.name, ok: !hasProblems(checks),
            checks: checks.map((c) => ({ ...renderRecord(c.record), status: c.status, found: c.found, fix: c.fix, ...(c.detail ? { detail: c.detail } : {}) })),
          },
        };
      },
    }),
  ];
}

/** The account's domain of that name, else 404 (another account's domain is not found either). */
async function ownDomain(ctx: RouteContext, input: string, account: string): Promise<SendingDomain> {
  const name = normalizeDomain(input);
  const d = name ? await ctx.store.getDomain(name) : null;
  if (!d || (d.account ?? 'default') !== account) throw new ApiError(404, 'not_found', 'No such domain');
  return d;
}

/** The domain's expected records, each looked up in DNS. */
export const checkDomainDns = (ctx: Pick<RouteContext, 'hostname' | 'domains' | 'dnsResolver'>, d: SendingDomain) =>
  checkRecords(expectedRecords(d.name, d.keys, d.createdAt, { hostname: ctx.hostname, domains: ctx.domains }), ctx.dnsResolver);

const renderRecord = ({ purpose, name, type, value, required, note }: ReturnType<typeof expectedRecords>[number]) =>
  ({ purpose, name, type, value, required, ...(note ? { note } : {}) });
