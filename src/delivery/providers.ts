// Which mailbox provider a recipient domain belongs to: for traffic shaping (issue 11: rules apply
// per provider, so 10,000 Google Workspace domains are one Gmail) and for statistics grouped by
// provider. Two data tables, first match wins: the providers' MX host names (PROVIDER_MX_RULES:
// aspmx.l.google.com, *.mail.protection.outlook.com, *.yahoodns.net, …) and their own consumer
// domains (PROVIDER_RULES). A domain rolls up by its MX hosts first (providerOfRoute), then by the
// domain table, then to the registrable domain of its first MX ("mx:example.net"): a site.
// Operators add MX rules in the config (shaping.mx); they are tried before the stock ones.
export interface ProviderRule { provider: string; domains: RegExp }
/** An MX host name pattern: exact name, or "*.suffix" for any host under suffix (the suffix itself too). */
export interface ProviderMxRule { provider: string; mx: string }

export const PROVIDER_RULES: readonly ProviderRule[] = [
  { provider: 'gmail', domains: /^(gmail\.com|googlemail\.com)$/ },
  { provider: 'microsoft', domains: /^(outlook|hotmail|live|msn|windowslive|passport)\.[a-z.]+$/ },
  { provider: 'yahoo', domains: /^(yahoo\.[a-z.]+|ymail\.com|rocketmail\.com|aol\.[a-z.]+|aim\.com|verizon\.net|att\.net|sbcglobal\.net)$/ },
  { provider: 'apple', domains: /^(icloud\.com|me\.com|mac\.com)$/ },
  { provider: 'gmx', domains: /^(gmx\.[a-z.]+|web\.de|mail\.com)$/ },
  { provider: 'mailru', domains: /^(mail\.ru|inbox\.ru|list\.ru|bk\.ru)$/ },
  { provider: 'yandex', domains: /^(yandex\.[a-z.]+|ya\.ru)$/ },
  { provider: 'proton', domains: /^(proton\.me|protonmail\.com|pm\.me)$/ },
  { provider: 'zoho', domains: /^zoho(mail)?\.[a-z.]+$/ },
];

/** The big providers' inbound MX host names, as published in their customers' MX records. */
export const PROVIDER_MX_RULES: readonly ProviderMxRule[] = [
  { provider: 'gmail', mx: '*.google.com' }, // gmail-smtp-in.l.google.com, aspmx.l.google.com, smtp.google.com
  { provider: 'gmail', mx: '*.googlemail.com' }, // aspmx2.googlemail.com …
  { provider: 'microsoft', mx: '*.mail.protection.outlook.com' }, // Microsoft 365 / Exchange Online
  { provider: 'microsoft', mx: '*.olc.protection.outlook.com' }, // outlook.com, hotmail.com
  { provider: 'microsoft', mx: '*.outlook.com' },
  { provider: 'microsoft', mx: '*.hotmail.com' },
  { provider: 'yahoo', mx: '*.yahoodns.net' }, // Yahoo and AOL
  { provider: 'yahoo', mx: '*.aol.com' },
  { provider: 'apple', mx: '*.mail.icloud.com' },
  { provider: 'apple', mx: '*.icloud.com' },
  { provider: 'gmx', mx: '*.gmx.net' },
  { provider: 'gmx', mx: '*.web.de' },
  { provider: 'gmx', mx: '*.gmx.com' },
  { provider: 'gmx', mx: '*.mail.com' },
  { provider: 'mailru', mx: '*.mail.ru' },
  { provider: 'yandex', mx: '*.yandex.net' },
  { provider: 'yandex', mx: '*.yandex.ru' },
  { provider: 'proton', mx: '*.protonmail.ch' },
  { provider: 'zoho', mx: '*.zoho.com' },
  { provider: 'zoho', mx: '*.zoho.eu' },
];

/** 'gmail', 'microsoft', … or 'other': by the domain table only (no DNS). */
export function providerOf(domain: string): string {
  const d = domain.toLowerCase();
  return PROVIDER_RULES.find((r) => r.domains.test(d))?.provider ?? 'other';
}

const normalize = (name: string) => name.toLowerCase().replace(/\.$/, '');

function mxMatches(pattern: string, host: string): boolean {
  const p = normalize(pattern);
  if (!p.startsWith('*.')) return host === p;
  const suffix = p.slice(2);
  return host === suffix || host.endsWith(`.${suffix}`);
}

/** The provider of one MX host name by the MX tables (`extra` first), or null. */
export function providerOfMx(mxHost: string, extra: readonly ProviderMxRule[] = []): string | null {
  const host = normalize(mxHost);
  return extra.find((r) => mxMatches(r.mx, host))?.provider ?? PROVIDER_MX_RULES.find((r) => mxMatches(r.mx, host))?.provider ?? null;
}

/**
 * The provider a recipient domain rolls up to, given its most preferred MX host names: the
 * provider the tables give every one of them (a hostile domain mixing its own MX with a
 * provider's must not share that provider's throttle state); else the domain table; else "mx:" +
 * the first MX's registrable domain (a site of its own); with no MX at all, the domain itself.
 */
export function providerOfRoute(domain: string, mxHosts: readonly string[], extra: readonly ProviderMxRule[] = []): string {
  const first = mxHosts[0] === undefined ? null : providerOfMx(mxHosts[0], extra);
  if (first && mxHosts.every((h) => providerOfMx(h, extra) === first)) return first;
  const byDomain = providerOf(domain);
  if (byDomain !== 'other') return byDomain;
  return mxHosts[0] ? `mx:${registrableDomain(mxHosts[0])}` : normalize(domain);
}

/** Two-label public suffixes under a country code (co.uk, com.au …): the registrable domain has three labels. */
const SECOND_LEVEL = /^(co|com|net|org|ac|gov|edu|ne|or|go|gen|ltd|plc)\.[a-z]{2}$/;

/** example.net for mx1.mail.example.net; example.co.uk for mx.example.co.uk (a short built-in suffix rule, no PSL). */
export function registrableDomain(host: string): string {
  const labels = normalize(host).split('.').filter(Boolean);
  if (labels.length <= 2) return labels.join('.');
  const lastTwo = labels.slice(-2).join('.');
  return SECOND_LEVEL.test(lastTwo) ? labels.slice(-3).join('.') : lastTwo;
}
