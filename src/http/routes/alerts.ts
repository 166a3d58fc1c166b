// GET /v1/alerts (issue 12, the dashboard's overview): what needs an operator's attention, in one
// answer: open circuit breakers holding the account's mail, webhooks disabled or whose last
// delivery failed, sending domains whose required DNS records are not right (checked now, at
// most MAX_DOMAINS of them, in parallel), and, for the operator only, the relay's TLS certificate
// when it expires within CERT_WARNING_DAYS.
import { X509Certificate } from 'node:crypto';
import { z } from 'zod/v4';
import { isOperator } from '../../accounts/operator.js';
import type { ApiKeyRecord } from '../../store/platform-store.js';
import { defineRoute, type ApiRoute } from '../route.js';
import { isoTime } from '../schemas.js';
import type { RouteContext } from './context.js';
import { checkDomainDns } from './domains.js';

const MAX_DOMAINS = 20;
const CERT_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;

const alertsBody = z.object({
  breakers: z.array(z.object({
    id: z.string(), scope: z.string(), scope_key: z.string(), metric: z.string(), rate: z.number(), tripped_at: z.string(), held: z.number().int(),
  })).describe('open circuit breakers holding this account\'s mail (every account\'s for the operator)'),
  webhooks: z.array(z.object({
    id: z.string(), url: z.string(), problem: z.enum(['disabled', 'failing']), since: z.string().nullable(), detail: z.string().nullable(),
  })),
  domains: z.array(z.object({
    name: z.string(), problems: z.array(z.object({ purpose: z.string(), name: z.string(), status: z.string(), fix: z.string().nullable() })),
  })).describe(`sending domains whose required DNS records are not right (the first ${MAX_DOMAINS} domains are checked)`),
  certificate: z.object({ expires_at: z.string(), days_left: z.number().int(), subject: z.string() }).nullable()
    .describe(`operator only: the relay's TLS certificate when it expires within ${CERT_WARNING_DAYS} days`),
}).meta({ id: 'Alerts' });


export function alertRoutes(ctx: RouteContext): ApiRoute[] {
  return [defineRoute({
    method: 'GET', url: '/v1/alerts', scope: 'read', tag: 'alerts',
    summary: 'What needs attention: open circuit breakers, failing or disabled webhooks, domains with wrong DNS, a TLS certificate close to expiry',
    responses: { 200: { description: 'the alerts (empty lists: nothing to do)', schema: alertsBody } },
    handler: async (r) => {
      const [breakers, webhooks, domains] = await Promise.all([
        breakerAlerts(ctx, r.key), webhookAlerts(ctx, r.key.account), domainAlerts(ctx, r.key.account),
      ]);
      return { status: 200, body: { breakers, webhooks, domains, certificate: isOperator(r.key) ? certificateAlert(ctx) : null } };
    },
  })];
}

async function breakerAlerts(ctx: RouteContext, key: ApiKeyRecord) {
  const open = await ctx.store.listBreakers({ open: true, ...(isOperator(key) ? {} : { account: key.account }), limit: 100 });
  return open.map((b) => ({
    id: String(b.id), scope: b.scope.type, scope_key: b.scope.key, metric: b.metric, rate: b.rate, tripped_at: isoTime(b.trippedAt)!, held: b.held,
  }));
}

async function webhookAlerts(ctx: RouteContext, account: string) {
  const out = [];
  for (const w of await ctx.store.listWebhooks(account)) {
    if (!w.enabled) {
      out.push({ id: w.id, url: w.url, problem: 'disabled' as const, since: isoTime(w.disabledAt), detail: w.disabledReason });
      continue;
    }
    const [last] = await ctx.store.listWebhookAttempts(account, w.id, 1);
    if (last && !last.ok) {
      out.push({ id: w.id, url: w.url, problem: 'failing' as const, since: isoTime(last.at), detail: last.status === null ? last.error : `HTTP ${last.status}` });
    }
  }
  return out;
}

async function domainAlerts(ctx: RouteContext, account: string) {
  const domains = (await ctx.store.listDomains(account)).slice(0, MAX_DOMAINS);
  const checked = await Promise.all(domains.map(async (d) => ({ name: d.name, checks: await checkDomainDns(ctx, d) })));
  return checked
    .map(({ name, checks }) => ({
      name,
      problems: checks.filter((c) => c.record.required && c.status !== 'ok')
        .map((c) => ({ purpose: c.record.purpose, name: c.record.name, status: c.status, fix: c.fix })),
    }))
    .filter((d) => d.problems.length > 0);
}

function certificateAlert(ctx: RouteContext): { expires_at: string; days_left: number; subject: string } | null {
  if (!ctx.certificatePem) return null;
  let cert: X509Certificate;
  try { cert = new X509Certificate(ctx.certificatePem); } catch { return null; }
  const expiresAt = Date.parse(cert.validTo);
  const daysLeft = Math.floor((expiresAt - ctx.clock.now()) / DAY_MS);
  return daysLeft < CERT_WARNING_DAYS ? { expires_at: isoTime(expiresAt)!, days_left: daysLeft, subject: cert.subject.replace(/\n/g, ', ') } : null;
}
