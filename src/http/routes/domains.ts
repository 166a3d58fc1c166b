// /v1/domains: the account's sending domains with their DKIM keys (public parts only) and the DNS
// records to publish (src/domains/dns-records.ts), and their check against DNS (domains/domain-check.ts,
// as `postlane domains check`). Another account's domain is a 404. POST adds a domain and POST
// …/keys starts a DKIM key rotation, through the same modules as the CLI (domains/domain-admin.ts,
// domains/key-rotation.ts): the pending key is activated by the relay once its record is in DNS.
// DELETE removes a domain, its keys and the account's SMTP users' grants within it (domain-admin.ts,
// as `postlane domains remove`).
import { z } from 'zod/v4';
import { expectedRecords } from '../../domains/dns-records.js';
import { checkRecords, hasProblems } from '../../domains/domain-check.js';
import { normalizeDomain } from '../../domains/domain-name.js';
import { KEY_CHOICES, type KeyChoice } from '../../domains/dkim-keys.js';
import { dkimRecords } from '../../domains/dns-records.js';
import { addSendingDomain, removeSendingDomain } from '../../domains/domain-admin.js';
import { rotateKey } from '../../domains/key-rotation.js';
import { RelayError } from '../../errors.js';
import type { SendingDomain } from '../../store/store.js';
import { ApiError, invalidFields } from '../../ingress/http/api-error.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { errorBody, isoTime } from '../schemas.js';
import type { RouteContext } from './context.js';

const domainBody = z.object({
  name: z.string(), created_at: z.string(),
  dkim: z.array(z.object({ selector: z.string(), algorithm: z.string(), state: z.string() })),
}).meta({ id: 'Domain' });
const recordBody = z.object({ purpose: z.string(), name: z.string(), type: z.string(), value: z.string(), required: z.boolean(), note: z.string().optional() });

const selectorField = z.string().min(1).max(63).regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, 'letters, digits, inner hyphens');
const createDomain = z.object({
  name: z.string().min(1).max(253),
  key: z.enum(KEY_CHOICES as [KeyChoice, ...KeyChoice[]]).optional().describe('keys to generate (default rsa2048)'),
  selector: selectorField.optional().describe('default pl<yyyymmdd>'),
}).strict().meta({ id: 'CreateDomainRequest' });
const rotateBody = z.object({ selector: selectorField.optional().describe('selector of the new key (default pl<yyyymmdd>)') }).strict().meta({ id: 'RotateKeyRequest' });
const nameParams = z.object({ name: z.string().min(1).max(253) }).strict();

const rotationBody = z.object({ name: z.string(), keys: domainBody.shape.dkim, records: z.array(recordBody) }).meta({ id: 'KeyRotation' });

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
        return { status: 200, body: { ...renderDomain(d), records: recordsOf(ctx, d) } };
      },
    }),
    defineRoute({
      method: 'POST', url: '/v1/domains', scope: 'admin', tag: 'domains', body: createDomain, idempotent: true,
      summary: 'Add a sending domain to the account, with its first DKIM key(s); answers the DNS records to publish',
      responses: {
        201: { description: 'added', schema: domainBody.extend({ records: z.array(recordBody) }) },
        409: { description: 'domain_exists: the name is taken (by any account); domain_account: it is inside or above another account\'s domain, or of a grant held by another account\'s SMTP user', schema: errorBody },
        422: { description: 'invalid fields', schema: errorBody },
      },
      handler: async (r) => {
        const name = normalizeDomain(r.body.name);
        if (!name || !name.includes('.')) throw invalidFields([{ path: 'name', message: 'not a domain name' }]);
        const d = await asApiError(() => addSendingDomain(ctx.store, name, r.key.account, { key: r.body.key, selector: r.body.selector, now: ctx.clock.now() }));
        return { status: 201, body: { ...renderDomain(d), records: recordsOf(ctx, d) } };
      },
    }),
    defineRoute({
      method: 'DELETE', url: '/v1/domains/:name', scope: 'admin', tag: 'domains', params: nameParams,
      summary: 'Remove a sending domain and its DKIM keys (mail is no longer signed as it); the account\'s SMTP users lose their grants of it and of its subdomains',
      responses: { 204: { description: 'removed' }, 404: { description: 'no such domain in this account', schema: errorBody } },
      handler: async (r) => {
        const d = await ownDomain(ctx, r.params.name, r.key.account);
        await asApiError(() => removeSendingDomain(ctx.store, d.name));
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'POST', url: '/v1/domains/:name/keys', scope: 'admin', tag: 'domains', params: nameParams, body: rotateBody,
      summary: 'Rotate the DKIM key: creates a pending key (new selector) per algorithm and answers its DNS record; the current key keeps signing until the relay sees the new record in DNS, then the old one is retired',
      responses: {
        201: { description: 'the pending key(s) and their records', schema: rotationBody },
        404: { description: 'no such domain in this account', schema: errorBody },
        409: { description: 'rotation_pending: a pending key already waits for its record; selector_exists: the selector is used', schema: errorBody },
      },
      handler: async (r) => {
        const d = await ownDomain(ctx, r.params.name, r.key.account);
        const keys = await asApiError(() => rotateKey(ctx.store, d.name, { clock: ctx.clock, selector: r.body?.selector }));
        return {
          status: 201,
          body: { name: d.name, keys: keys.map((k) => ({ selector: k.selector, algorithm: k.algorithm, state: k.state })), records: dkimRecords(d.name, keys).map(renderRecord) },
        };
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

const recordsOf = (ctx: Pick<RouteContext, 'hostname' | 'domains'>, d: SendingDomain) =>
  expectedRecords(d.name, d.keys, d.createdAt, { hostname: ctx.hostname, domains: ctx.domains }).map(renderRecord);

/** The admin modules' typed errors as API answers (anything else stays a 500). */
async function asApiError<T>(fn: () => Promise<T>): Promise<T> {
  try { return await fn(); } catch (err) {
    if (!(err instanceof RelayError)) throw err;
    switch (err.code) {
      case 'ERR_DOMAIN_EXISTS': throw new ApiError(409, 'domain_exists', 'That domain is already registered');
      case 'ERR_DOMAIN_ACCOUNT': throw new ApiError(409, 'domain_account', 'That domain is inside or above another account\'s domain');
      case 'ERR_SELECTOR_EXISTS': throw new ApiError(409, 'selector_exists', 'That selector is already used for this domain');
      case 'ERR_DKIM_KEY': if (err.message.includes('already used')) throw new ApiError(409, 'selector_exists', 'That selector is already used for this domain');
        throw err.message.includes('pending') ? new ApiError(409, 'rotation_pending', 'A pending key already waits for its DNS record') : invalidFields([{ path: 'selector', message: err.message }]);
      case 'ERR_NOT_FOUND': throw new ApiError(404, 'not_found', 'No such domain');
      default: throw err;
    }
  }
}
