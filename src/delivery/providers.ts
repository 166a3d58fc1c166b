// Which mailbox provider a recipient domain belongs to, for statistics grouped by provider. This
// is the table of the big providers' own consumer domains (data, first match wins); domains
// hosted at a provider under their own name (Google Workspace, Microsoft 365) are recognised only
// by their MX hosts, which per-provider traffic shaping will look up (issue 11) — until then they
// count as 'other'.
export interface ProviderRule { provider: string; domains: RegExp }

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

/** 'gmail', 'microsoft', … or 'other'. */
export function providerOf(domain: string): string {
  const d = domain.toLowerCase();
  return PROVIDER_RULES.find((r) => r.domains.test(d))?.provider ?? 'other';
}
