// Owns one address verification as a list of named steps: parse the syntax (message/address.ts,
// the parser MAIL/RCPT use) → look up the domain's mail hosts (delivery/route.ts, the lookups
// delivery uses) → the role and disposable lists → the account's suppressions and history (its
// own only: every store read takes the account) → the verdict (verdict-rules.ts, a pure table).
// Lookups are injected (resolver, store, lists), so the steps are tested without sockets. A mail
// host address delivery.mxAddresses refuses is not one (delivery would skip it and bounce 5.4.4):
// the SMTP probe connects only where delivery would, never to loopback or cloud metadata.
import { domainToASCII } from 'node:url';
import { parseMailbox, type Mailbox } from '../message/address.js';
import { lookupMailHosts, mxAddressAllowed, normalizeHost, orderByPreference, resolveHostAddresses, type MxResolver } from '../delivery/index.js';
import type { Config } from '../config/schema.js';
import type { QueueStore } from '../store/store.js';
import { suppressionKey } from '../store/suppression-store.js';
import type { VerifyLists } from './verify-lists.js';
import type { ProbeOutcome, SmtpProber } from './smtp-probe.js';
import { decideVerdict, orderReasons, type ReasonCode, type Verdict } from './verdict-rules.js';

export type MxKind = 'mx' | 'implicit' | 'null' | 'none';
export type DomainState = 'exists' | 'not_found' | 'temporary_failure' | 'not_checked';

export interface Reason { code: ReasonCode; detail: string }

export interface VerifyChecks {
  syntax: { valid: boolean; smtputf8: boolean };
  domain: DomainState;
  mx: { kind: MxKind; hosts: string[] };
  role: boolean;
  disposable: boolean;
  /** The account's entry for the address (the 'all' one when there are both), or null. */
  suppressed: { scope: 'all' | 'broadcast'; reason: string; since: string } | null;
  /** The account's delivery events for the address still kept (events.retention). */
  /** null when not read (verify.history: false, or invalid syntax). */
  history: { delivered: number; hard_bounces: number; soft_bounces: number; complaints: number; last_hard_bounce: string | null; last_delivered: string | null } | null;
  /** Only the SMTP probe can tell; without it (or when it could not tell) 'not_checked'. */
  catch_all: boolean | 'not_checked';
  /** The SMTP RCPT probe's outcome (verify.smtpProbe); null when it did not run. */
  smtp_probe: { outcome: ProbeOutcome['kind']; host: string; detail: string } | null;
}

export interface VerifyResult {
  address: string;
  /** The address as Postlane stores it (domain lower-cased), null when the syntax is invalid. */
  normalized: string | null;
  verdict: Verdict;
  /** Worst first: reasons[0] explains the verdict. */
  reasons: Reason[];
  checks: VerifyChecks;
}

export interface DomainFacts {
  state: DomainState;
  mx: VerifyChecks['mx'];
  reasons: Reason[];
  /** The first mail host with an address: where a probe would go. */
  target?: { host: string; ip: string };
}

export interface VerifyDeps {
  resolver: MxResolver;
  store: Pick<QueueStore, 'listSuppressions' | 'listEvents'>;
  lists: Pick<VerifyLists, 'isRole' | 'isDisposable'>;
  /** delivery.ipv6: whether AAAA records count as a mail host's address. */
  ipv6: boolean;
  /** delivery.mxAddresses: which addresses of a mail host count (the others are skipped, as delivery does); absent: any. */
  mxAddresses?: Config['delivery']['mxAddresses'];
  /** Shared by the addresses of one batch: each domain is looked up once. */
  domainCache?: Map<string, Promise<DomainFacts>>;
  /** verify.history: read the account's events for the address (false: the suppression list alone). */
  history?: boolean;
  /** The SMTP RCPT probe; absent: off (verify.smtpProbe: false, the default). */
  prober?: Pick<SmtpProber, 'probe'>;
}

/** MX hosts whose addresses are looked up (enough to find one that resolves). */
const MAX_HOSTS_RESOLVED = 5;
/** Delivery events read per address. */
const HISTORY_LIMIT = 1000;

const EMPTY_HISTORY: NonNullable<VerifyChecks['history']> = { delivered: 0, hard_bounces: 0, soft_bounces: 0, complaints: 0, last_hard_bounce: null, last_delivered: null };

export async function verifyAddress(deps: VerifyDeps, account: string, address: string): Promise<VerifyResult> {
  const mailbox = parseSyntax(address);
  if (!mailbox) return invalidSyntax(address);
  const [domain, suppressed, history] = await Promise.all([
    checkDomain(deps, mailbox), checkSuppression(deps, account, mailbox.address), checkHistory(deps, account, mailbox.address),
  ]);
  const role = deps.lists.isRole(mailbox.local);
  const disposable = !mailbox.isAddressLiteral && deps.lists.isDisposable(mailbox.domain);
  const reasons: Reason[] = [
    ...syntaxReasons(mailbox), ...domain.reasons, ...suppressed.reasons, ...history.reasons,
    ...(role ? [{ code: 'role_account' as const, detail: `${mailbox.local}@ is a role mailbox` }] : []),
    ...(disposable ? [{ code: 'disposable_domain' as const, detail: `${mailbox.domain} is a disposable mailbox provider` }] : []),
  ];
  const probe = await runProbe(deps, mailbox, domain, reasons);
  reasons.push(...probe.reasons);
  return {
    address, normalized: mailbox.address,
    verdict: decideVerdict(reasons.map((r) => r.code)), reasons: orderReasons(reasons),
    checks: {
      syntax: { valid: true, smtputf8: mailbox.isUtf8 }, domain: domain.state, mx: domain.mx,
      role, disposable, suppressed: suppressed.entry, history: history.summary, catch_all: probe.catchAll, smtp_probe: probe.check,
    },
  };
}

/** Step 1: RFC 5321 mailbox syntax (UTF-8 per RFC 6531); no source route, no bare "postmaster". */
export function parseSyntax(address: string): Mailbox | null {
  const m = parseMailbox(address);
  return m && m.domain !== '' ? m : null;
}

function invalidSyntax(address: string): VerifyResult {
  const reasons: Reason[] = [{ code: 'syntax_invalid', detail: 'not a valid email address' }];
  return {
    address, normalized: null, verdict: decideVerdict(['syntax_invalid']), reasons,
    checks: {
      syntax: { valid: false, smtputf8: false }, domain: 'not_checked', mx: { kind: 'none', hosts: [] },
      role: false, disposable: false, suppressed: null, history: null, catch_all: 'not_checked', smtp_probe: null,
    },
  };
}

function syntaxReasons(m: Mailbox): Reason[] {
  const out: Reason[] = [];
  if (m.isUtf8) out.push({ code: 'smtputf8', detail: 'a UTF-8 address: needs SMTPUTF8 at the receiving server' });
  if (m.isAddressLiteral) out.push({ code: 'address_literal', detail: `${m.domain} is an address literal` });
  return out;
}

/** Step 2: where the domain's mail goes, memoized per batch. */
function checkDomain(deps: VerifyDeps, m: Mailbox): Promise<DomainFacts> {
  if (m.isAddressLiteral) return Promise.resolve({ state: 'not_checked', mx: { kind: 'none', hosts: [] }, reasons: [] });
  const ascii = domainToASCII(m.domain) || m.domain;
  const cached = deps.domainCache?.get(ascii);
  if (cached) return cached;
  const facts = lookupDomain(deps, ascii);
  deps.domainCache?.set(ascii, facts);
  return facts;
}

export async function lookupDomain(deps: Pick<VerifyDeps, 'resolver' | 'ipv6' | 'mxAddresses'>, domain: string): Promise<DomainFacts> {
  const found = await lookupMailHosts(deps.resolver, domain);
  const none = { kind: 'none' as const, hosts: [] };
  const setting = deps.mxAddresses ?? 'any';
  const refused: string[] = [];
  /** The host's addresses delivery.mxAddresses allows; the refused ones are kept for the reason's detail. */
  const addressesOf = async (host: string) => {
    const r = await resolveHostAddresses(deps.resolver, host, deps.ipv6);
    const allowed = r.addresses.filter((a) => mxAddressAllowed(setting, a) || (refused.push(a), false));
    return { ...r, addresses: allowed };
  };
  const refusal = () => `no address this relay may deliver to (${refused.slice(0, 3).join(', ')}${refused.length > 3 ? ', …' : ''}; delivery.mxAddresses: ${setting})`;
  switch (found.kind) {
    case 'nxdomain': return { state: 'not_found', mx: none, reasons: [{ code: 'domain_not_found', detail: `${domain} does not exist (NXDOMAIN)` }] };
    case 'temporary': return { state: 'temporary_failure', mx: none, reasons: [{ code: 'dns_temporary', detail: `the MX lookup of ${domain} failed for now` }] };
    case 'null': return { state: 'exists', mx: { kind: 'null', hosts: [] }, reasons: [{ code: 'null_mx', detail: `${domain} publishes a null MX (RFC 7505)` }] };
    case 'implicit': {
      const r = await addressesOf(domain);
      if (r.addresses.length > 0) return { state: 'exists', mx: { kind: 'implicit', hosts: [domain] }, reasons: [{ code: 'implicit_mx', detail: `${domain} has no MX; its A/AAAA address receives mail` }], target: { host: domain, ip: r.addresses[0]! } };
      if (r.failure === 'temporary') return { state: 'temporary_failure', mx: none, reasons: [{ code: 'dns_temporary', detail: `the address lookup of ${domain} failed for now` }] };
      if (refused.length > 0) return { state: 'exists', mx: { kind: 'implicit', hosts: [domain] }, reasons: [{ code: 'mail_host_unresolvable', detail: `${domain} has no MX; its A/AAAA record has ${refusal()}` }] };
      return { state: 'exists', mx: none, reasons: [{ code: 'no_mail_host', detail: `${domain} has no MX and no A/AAAA record` }] };
    }
    case 'mx': {
      const hosts = orderByPreference(found.records, () => 0).map((r) => normalizeHost(r.exchange));
      const resolved = await Promise.all(hosts.slice(0, MAX_HOSTS_RESOLVED).map(addressesOf));
      const mx = { kind: 'mx' as const, hosts };
      const first = resolved.findIndex((r) => r.addresses.length > 0);
      if (first >= 0) return { state: 'exists', mx, reasons: [], target: { host: hosts[first]!, ip: resolved[first]!.addresses[0]! } };
      if (resolved.some((r) => r.failure === 'temporary')) return { state: 'exists', mx, reasons: [{ code: 'dns_temporary', detail: `the address lookup of ${domain}'s MX hosts failed for now` }] };
      return { state: 'exists', mx, reasons: [{ code: 'mail_host_unresolvable', detail: `the MX hosts of ${domain} have ${refused.length > 0 ? refusal() : 'no address'}` }] };
    }
  }
}

/** Step 3: the account's suppression entry ('all' before 'broadcast'). */
async function checkSuppression(deps: VerifyDeps, account: string, address: string): Promise<{ entry: VerifyChecks['suppressed']; reasons: Reason[] }> {
  const found = await deps.store.listSuppressions({ account, address: suppressionKey(address) });
  const s = found.find((e) => e.scope === 'all') ?? found[0];
  if (!s) return { entry: null, reasons: [] };
  const since = new Date(s.createdAt).toISOString();
  const entry = { scope: s.scope, reason: s.reason, since };
  return s.scope === 'all'
    ? { entry, reasons: [{ code: 'suppressed', detail: `on the suppression list for all mail (${s.reason}, since ${since.slice(0, 10)})` }] }
    : { entry, reasons: [{ code: 'suppressed_broadcast', detail: `on the suppression list for broadcast mail (${s.reason}, since ${since.slice(0, 10)})` }] };
}

/** Step 4: the account's delivered / bounced / complained events for the address. */
async function checkHistory(deps: VerifyDeps, account: string, address: string): Promise<{ summary: VerifyChecks['history']; reasons: Reason[] }> {
  if (deps.history === false) return { summary: null, reasons: [] };
  const events = await deps.store.listEvents({ account, recipient: address, types: ['delivered', 'bounced', 'complained'], limit: HISTORY_LIMIT });
  const summary = { ...EMPTY_HISTORY };
  let lastHard = -1;
  let lastDelivered = -1;
  for (const e of events) {
    if (e.type === 'delivered') { summary.delivered++; lastDelivered = Math.max(lastDelivered, e.at); }
    else if (e.type === 'complained') summary.complaints++;
    else if (e.data.bounceType === 'hard') { summary.hard_bounces++; lastHard = Math.max(lastHard, e.at); }
    else if (e.data.bounceType === 'soft') summary.soft_bounces++;
  }
  if (lastHard >= 0) summary.last_hard_bounce = new Date(lastHard).toISOString();
  if (lastDelivered >= 0) summary.last_delivered = new Date(lastDelivered).toISOString();
  const reasons: Reason[] = [];
  if (lastHard >= 0 && lastDelivered < lastHard) reasons.push({ code: 'hard_bounced', detail: `hard-bounced ${summary.last_hard_bounce!.slice(0, 10)}, not delivered since` });
  else if (lastDelivered >= 0) reasons.push({ code: 'previously_delivered', detail: `delivered ${summary.last_delivered!.slice(0, 10)}` });
  if (summary.complaints > 0) reasons.push({ code: 'complained', detail: `${summary.complaints} spam complaint${summary.complaints > 1 ? 's' : ''}` });
  return { summary, reasons };
}

/**
 * Step 5 (verify.smtpProbe only): ask the first mail host about the address and a random one at
 * the domain. Not made when the other checks already say undeliverable or unknown (nothing to
 * learn, and a probe of a bad address is what gets senders blocklisted), nor for address literals.
 */
async function runProbe(deps: VerifyDeps, m: Mailbox, domain: DomainFacts, found: Reason[]): Promise<{ reasons: Reason[]; catchAll: VerifyChecks['catch_all']; check: VerifyChecks['smtp_probe'] }> {
  const skip = { reasons: [], catchAll: 'not_checked' as const, check: null };
  if (!deps.prober || !domain.target || ['undeliverable', 'unknown'].includes(decideVerdict(found.map((r) => r.code)))) return skip;
  const { host, ip } = domain.target;
  const o = await deps.prober.probe(m.address, domainToASCII(m.domain) || m.domain, host, ip);
  switch (o.kind) {
    case 'rejected': return { reasons: [{ code: 'rcpt_rejected', detail: `${host} refused it: ${o.reply}` }], catchAll: 'not_checked', check: { outcome: o.kind, host, detail: o.reply } };
    case 'accepted': return {
      reasons: [o.catchAll ? { code: 'catch_all', detail: `${host} accepts any address at ${m.domain}` } : { code: 'rcpt_accepted', detail: `${host} accepted it: ${o.reply}` }],
      catchAll: o.catchAll ?? 'not_checked', check: { outcome: o.kind, host, detail: o.reply },
    };
    case 'inconclusive': return { reasons: [{ code: 'probe_inconclusive', detail: `${host}: ${o.why}` }], catchAll: 'not_checked', check: { outcome: o.kind, host, detail: o.why } };
    case 'skipped': return { reasons: [{ code: 'probe_skipped', detail: o.why }], catchAll: 'not_checked', check: { outcome: o.kind, host, detail: o.why } };
  }
}
