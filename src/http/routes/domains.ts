// /v1/domains: the account's sending domains with their DKIM keys (public parts only) and the DNS
// records to publish (src/domains/dns-records.ts). Another account's domain is a 404.
import { z } from 'zod/v4';
import { expectedRecords } from '../../domains/dns-records.js';
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
        const name = normalizeDomain(r.params.name);
        const d = name ? await ctx.store.getDomain(name) : null;
        if (!d || (d.account ?? 'default') !== r.key.account) throw new ApiError(404, 'not_found', 'No such domain');
        const records = expectedRecords(d.name, d.keys, d.createdAt, { hostname: ctx.hostname, domains: ctx.domains })
          .map(({ purpose, name: n, type, value, required, note }) => ({ purpose, name: n, type, value, required, ...(note ? { note } : {}) }));
        return { status: 200, body: { ...renderDomain(d), records } };
      },
    }),
  ];
}
