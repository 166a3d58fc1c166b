// The single source of truth for Postlane's configuration: every key, its type, default,
// unit and the reason it exists. load.ts layers defaults ← YAML file ← environment over it.
import net from 'node:net';
import os from 'node:os';
import { z } from 'zod';
import { formatDuration, parseDurationMs, parseSizeBytes } from './units.js';

/** The keys with a unit, so `postlane config` can print them back as "5d" and "25MB" (print.ts). */
export const unitOfSchema = new WeakMap<z.ZodTypeAny, 'duration' | 'size' | 'hostPort'>();
const withUnit = <T extends z.ZodTypeAny>(unit: 'duration' | 'size' | 'hostPort', schema: T): T => (unitOfSchema.set(schema, unit), schema);

/** The longest a Node timer can wait (2^31-1 ms, about 24.8 days); longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;
/** Bound of the durations that are periods compared with timestamps, not timers (retention, queue time). */
export const MAX_PERIOD_MS = 3650 * 86_400_000;

/**
 * A duration in ms. Every duration is bounded, so the error names the key instead of a timer
 * firing at once or an Infinity spreading: timers (the default) by MAX_TIMER_MS, periods by MAX_PERIOD_MS.
 */
const duration = (what: string, maxMs = MAX_TIMER_MS) => withUnit('duration',
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = parseDurationMs(v);
    if (ms === null) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${what}: expected a duration like "30s", "5m", "5d"` });
      return z.NEVER;
    }
    if (!(ms <= maxMs)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${what}: at most ${formatDuration(maxMs)}${maxMs === MAX_TIMER_MS ? ' (the longest a timer can wait)' : ''}; a bare number is seconds` });
      return z.NEVER;
    }
    return ms;
  }));

const size = (what: string) => withUnit('size',
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const bytes = parseSizeBytes(v);
    if (bytes === null || !Number.isSafeInteger(bytes)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${what}: expected a size like "25MB", "512KB" or bytes` });
      return z.NEVER;
    }
    return bytes;
  }));

/** "host:port", "[v6]:port" or "host" (port 53) — a DNS server address. */
const hostPort = (defaultPort: number) => withUnit('hostPort',
  z.string().transform((v, ctx) => {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(v) ?? /^([^:]+)(?::(\d+))?$/.exec(v);
    if (m) {
      const port = m[2] ? Number(m[2]) : defaultPort;
      if (port > 0 && port < 65536) return { host: m[1]!, port };
    } else if (net.isIPv6(v)) {
      return { host: v, port: defaultPort }; // bare IPv6
    }
    // secret31: "smtp://user:pass@host:587" was a bare IPv6 "host" (no dot), or echoed whole here.
    const got = v.includes('@') ? 'a URL with credentials (not shown)' : `"${v}"`;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected "host" or "host:port", got ${got}` });
    return z.NEVER;
  }));

const shapingLimitFields = {
  maxConnections: z.number().int().positive().nullable().optional().describe('simultaneous sessions to the provider per egress source, over the cluster; null: delivery.maxConnectionsPerDestination'),
  messagesPerConnection: z.number().int().positive().nullable().optional().describe('then the session is closed; null: delivery.maxMessagesPerConnection'),
  perSecond: z.number().positive().nullable().optional().describe('messages per second per egress source; null: no limit'),
  perMinute: z.number().positive().nullable().optional().describe('messages per minute per egress source; null: no limit'),
  perHour: z.number().positive().nullable().optional().describe('messages per hour per egress source; null: no limit'),
};
const providerName = z.string().regex(/^[a-z0-9][a-z0-9._:-]{0,99}$/, 'expected a provider name like "gmail" (lower case)');

/** Per-provider traffic shaping (issue 11): docs/shaping.md; the stock rules are in src/delivery/shaping-rules.ts. */
const shapingSchema = z.object({
  enabled: z.boolean().default(true)
    .describe('shape outbound traffic per mailbox provider (MX rollup, stock limits, adaptive suspensions); false: per recipient domain only, as delivery.maxConnectionsPerDestination'),
  mx: z.array(z.object({
    provider: providerName,
    mx: z.string().regex(/^(\*\.)?([a-z0-9_-]+\.)*[a-z0-9_-]+\.?$/i, 'expected an MX host like "mx.example.net" or "*.example.net"'),
  }).strict()).default([])
    .describe('extra MX host → provider rules, tried before the stock table (a provider\'s regional hosts, a private test MX)'),
  providers: z.record(providerName, z.object(shapingLimitFields).strict()).default({})
    .describe('limits per provider over the stock ones (fields left out keep the stock value); a new name shapes that provider'),
  overrides: z.array(z.object({
    provider: providerName.optional(),
    pool: z.string().min(1).optional().describe('egress pool (the one pool is "default")'),
    account: z.string().min(1).optional(),
    ...shapingLimitFields,
  }).strict()).default([])
    .describe('limits for a provider, egress pool and/or account; every matching entry applies, in order, over shaping.providers'),
  accountShare: z.number().gt(0).max(1).default(0.5)
    .describe('while two or more accounts send to a provider, each may use at most this share of its rates, so one account\'s broadcast cannot starve another\'s mail'),
  maxSuspend: duration('shaping.maxSuspend').default('1h')
    .describe('a throttle reply never suspends a provider longer than this (the actions\' own durations are shorter by default)'),
  recoverEvery: duration('shaping.recoverEvery').default('1m')
    .describe('after a scale-down or a suspension, rates grow back by a quarter this often while no throttle reply comes'),
  actions: z.array(z.object({
    name: z.string().min(1).max(64),
    match: z.string().min(1).max(500).refine((v) => { try { new RegExp(v, 'i'); return true; } catch { return false; } }, 'expected a regular expression'),
    suspend: duration('shaping.actions[].suspend').default(0).describe('suspend the provider this long; 0: not'),
    scale: z.number().gt(0).max(1).default(1).describe('multiply its rates and connections by this'),
  }).strict()).default([])
    .describe('extra reply pattern → action rules (case-insensitive regular expression on "code text"), tried before the stock table'),
}).strict().default({});

/** MX hosts of providers known to blocklist senders that probe with RCPT (verify.smtpProbe.skipMxHosts). */
export const PROBE_SKIP_MX_HOSTS = ['google.com', 'googlemail.com', 'yahoodns.net', 'yahoo.com', 'aol.com', 'outlook.com', 'hotmail.com', 'live.com', 'icloud.com', 'me.com'];

const cidr = z.string().regex(/^[0-9a-fA-F.:]+(\/\d{1,3})?$/, 'expected an IP or CIDR like 10.0.0.0/8')
  .refine((v) => {
    const [ip = '', bits] = v.split('/');
    return net.isIP(ip) !== 0 && (bits === undefined || Number(bits) <= (net.isIPv6(ip) ? 128 : 32));
  }, 'expected an IP or CIDR like 10.0.0.0/8');

const proxyProtocol = z.union([
  z.literal(false),
  z.object({
    trusted: z.array(cidr).min(1)
      .describe('load balancer addresses (IP or CIDR) whose connections must start with a PROXY v1/v2 header; only these may name the client address'),
    required: z.boolean().default(true)
      .describe('true: connections from any other address are closed (nothing bypasses the load balancer); false: they are served as direct clients under their own address'),
  }).strict(),
]).default(false)
  .describe('PROXY protocol (HAProxy send-proxy / send-proxy-v2) so client addresses survive a TCP load balancer for logs, limits, relayNetworks and Received; false: off');

const listener = (defaultPort: number) =>
  z.union([
    z.literal(false),
    z.object({
      host: z.string().default('127.0.0.1').describe('address to bind; 0.0.0.0 or :: for all'),
      port: z.number().int().min(0).max(65535).default(defaultPort).describe('TCP port; 0 picks a free one'),
      proxyProtocol,
    }).strict(),
  ]).default({ host: '127.0.0.1', port: defaultPort, proxyProtocol: false });

export const smarthostSchema = z.union([
  z.null(),
  hostPort(25).transform((hp) => ({ ...hp, auth: null as null | { user: string; pass: string }, tls: 'opportunistic' as TlsMode })),
  z.object({
    host: z.string(),
    port: z.number().int().min(1).max(65535).default(25),
    auth: z.object({ user: z.string(), pass: z.string() }).strict().nullable().default(null)
      .describe('credentials for AUTH at the upstream relay'),
    tls: z.enum(['opportunistic', 'required', 'implicit']).default('opportunistic')
      .describe('STARTTLS when offered, STARTTLS required, or TLS from the first byte (port 465)'),
  }).strict(),
]).default(null);

export type TlsMode = 'opportunistic' | 'required' | 'implicit';

/** 0.0.0.0 or :: (any spelling): binding to it is no choice of address at all. */
export const isUnspecified = (ip: string): boolean => net.isIPv4(ip) ? ip === '0.0.0.0' : net.isIPv6(ip) && /^[0:]+$/.test(ip);
/** A name of a source, pool or warmup schedule: shown in logs, CLI and API, used as a key in the store. */
const egressName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i, 'expected a name of letters, digits, - and _ (at most 63)');
/** A calendar day "YYYY-MM-DD" (UTC) that exists; kept as the string. */
const calendarDay = z.string().refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v),
  (v) => ({ message: `expected a calendar day like "2026-12-01" (UTC), got "${v}"` }));

const egressSchema = z.object({
  sources: z.array(z.object({
    name: egressName.describe('the source\'s id: in events (data.source), logs, `postlane sources` and the circuit breakers\' source scope'),
    address: z.string().refine((v) => net.isIP(v) !== 0, (v) => ({ message: `expected an IPv4 or IPv6 address of this machine, got "${v}"` }))
      .refine((v) => !isUnspecified(v), (v) => ({ message: `"${v}" lets the system pick; name one address of this machine` }))
      .describe('local address outbound connections are bound to; it must be an address of this machine (checked at start)'),
    ehlo: z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'expected a host name like "mta1.example.com"')
      .describe('EHLO name used from this address; its PTR should name it and it should resolve back to the address (checked at start and by `postlane sources check`)'),
    pool: egressName.default('default').describe('the pool this source belongs to'),
    warmup: z.object({
      schedule: egressName.default('stock').describe('a schedule of egress.warmupSchedules, or "stock" (the one shipped, docs/ip-pools.md)'),
      start: calendarDay.describe('UTC day the warmup began: day 1 of the schedule'),
    }).strict().nullable().default(null).describe('cap this new address\'s mail per provider per day by a schedule; null: warm (no cap)'),
  }).strict()).default([])
    .describe('local addresses to send from, each with its own EHLO name; empty: one implicit source (the system\'s address, hostname as EHLO)'),
  pools: z.array(z.object({
    name: egressName,
    overflow: z.boolean().default(true)
      .describe('a message a warming source may not take today goes out through a warm source of the pool; false: it waits (deferred, no attempt counted)'),
  }).strict()).default([]).describe('pool options; a pool named by a source exists without being listed here'),
  routes: z.array(z.object({
    account: z.string().min(1).optional().describe('the message\'s account'),
    stream: z.enum(['transactional', 'broadcast']).optional().describe('the message\'s stream'),
    sendingDomain: z.string().min(1).transform((d) => d.toLowerCase()).optional().describe('the MAIL FROM domain'),
    pool: egressName.describe('the pool that sends such mail'),
  }).strict().refine((r) => r.account !== undefined || r.stream !== undefined || r.sendingDomain !== undefined,
    'name at least one of account, stream, sendingDomain')).default([])
    .describe('which pool sends a message: the first rule whose every given field matches; none: defaultPool'),
  defaultPool: egressName.default('default').describe('the pool of mail no route matches'),
  warmupSchedules: z.record(egressName, z.array(z.object({
    day: z.number().int().min(1).describe('from this day of the warmup (day 1 = the start day)'),
    perProvider: z.number().int().min(0).describe('messages per mailbox provider per day at most'),
  }).strict()).min(1)).default({})
    .describe('warmup schedules besides the shipped "stock" one; each step holds until the next one; past the last step\'s day the source is warm'),
  checkPtr: z.boolean().default(true).describe('at start, check each source\'s PTR and forward-confirmed reverse DNS and log a warning line when it does not match'),
  refreshInterval: duration('egress.refreshInterval').default('5s')
    .describe('how often a node re-reads the sources\' live state (added, drained, paused) from the store'),
}).strict().default({})
  .describe('egress IP pools and warmup (docs/ip-pools.md)');

export const configSchema = z.object({
  hostname: z.string().min(1).default(os.hostname())
    .describe('EHLO/HELO name, Received headers, Message-ID domain, DSN sender domain'),
  dataDir: z.string().default('./data').describe('where the queue database, spool and generated TLS keys live'),
  localDomains: z.array(z.string()).default([])
    .describe('domains besides hostname whose mail the MX listener accepts for local processing (bounce domains)'),
  smtp: z.object({
    submission: listener(1587).describe('STARTTLS submission (587 in production); AUTH required, only after TLS'),
    submissions: listener(1465).describe('implicit-TLS submission (465 in production); AUTH required'),
    alt: listener(2525).describe('alternative submission port; same rules as submission'),
    mx: listener(2500).describe('inbound MX (25 in production): only mail for local domains, never relays'),
    relayNetworks: z.array(cidr)
      .default([]).describe('client networks (CIDR) allowed to submit on submission/alt without AUTH, like Postfix mynetworks; empty: AUTH always required'),
    banner: z.string().default('Postlane ESMTP').describe('text after the hostname in the 220 greeting'),
    maxConnections: z.number().int().positive().default(500).describe('simultaneous SMTP sessions, all listeners'),
    maxConnectionsPerIp: z.number().int().positive().default(50).describe('simultaneous sessions from one client address'),
    commandTimeout: duration('smtp.commandTimeout').default('5m').describe('idle time allowed between commands (RFC 5321 §4.5.3.2)'),
    preAuthTimeout: duration('smtp.preAuthTimeout').default('30s')
      .describe('idle time allowed between commands before AUTH on submission/submissions/alt (not mx, not relayNetworks): idle unauthenticated sessions hold no connection slot for long'),
    dataTimeout: duration('smtp.dataTimeout').default('10m').describe('idle time allowed between data chunks (DATA, and the announced octets of a BDAT chunk)'),
    maxBadCommands: z.number().int().positive().default(10).describe('errors in one session before it is closed'),
    auth: z.object({
      maxFailures: z.number().int().positive().default(5).describe('failed AUTH attempts per client IP before lockout'),
      maxFailuresPerUser: z.number().int().positive().optional()
        .describe('failed AUTH attempts against one user name, from any address, before it is locked out (default: 2 × maxFailures); addresses that logged in as the user in the last day are not locked out'),
      failureWindow: duration('smtp.auth.failureWindow', MAX_PERIOD_MS).default('15m').describe('window in which failures are counted'),
      lockout: duration('smtp.auth.lockout', MAX_PERIOD_MS).default('15m').describe('how long a locked-out IP is refused AUTH'),
      failureDelay: duration('smtp.auth.failureDelay').default('1s').describe('delay before answering a failed AUTH, doubled per failure'),
    }).strict().default({}),
  }).strict().default({}),
  tls: z.object({
    cert: z.string().nullable().default(null).describe('PEM certificate chain; null: self-signed, generated in dataDir/tls'),
    key: z.string().nullable().default(null).describe('PEM private key for cert'),
  }).strict().default({}),
  dns: z.object({
    servers: z.array(hostPort(53)).default([]).describe('resolvers as host or host:port; empty: the system resolvers'),
    timeout: duration('dns.timeout').default('5s').describe('per-query timeout'),
  }).strict().default({}),
  delivery: z.object({
    port: z.number().int().min(1).max(65535).default(25).describe('TCP port used on MX hosts (tests point it elsewhere)'),
    smarthost: smarthostSchema.describe('send everything through an upstream relay instead of MX: "host:port" or an object'),
    maxQueueTime: duration('delivery.maxQueueTime', MAX_PERIOD_MS).default('5d').describe('then the recipient bounces as expired'),
    retrySchedule: z.object({
      initial: duration('delivery.retrySchedule.initial').default('5m').describe('delay before the first retry'),
      factor: z.number().min(1).default(2).describe('each further delay is the previous one times this'),
      max: duration('delivery.retrySchedule.max').default('4h').describe('ceiling of a single delay'),
      jitter: z.number().min(0).max(1).default(0.1).describe('random spread ± this fraction, so retries do not stampede'),
    }).strict().default({}),
    delayWarning: z.union([z.literal(false), duration('delivery.delayWarning', MAX_PERIOD_MS)]).default('4h')
      .describe('send one "delayed" DSN after this long in the queue; false: never'),
    concurrency: z.number().int().positive().default(100).describe('simultaneous outbound SMTP connections in all'),
    maxConnectionsPerDestination: z.number().int().positive().default(10)
      .describe('simultaneous connections per recipient domain, so one big domain cannot starve the others'),
    slowAttemptAfter: duration('delivery.slowAttemptAfter').default('60s')
      .describe('an attempt running longer than this stops counting against delivery.concurrency and counts against delivery.maxSlowAttempts instead, so destinations that hold sessions open (a silent or slow-reading MX) cannot starve fresh mail'),
    maxSlowAttempts: z.number().int().min(0).nullable().default(null)
      .describe('attempts past delivery.slowAttemptAfter allowed at once beyond delivery.concurrency (at most concurrency + this many in all); when full, a slow attempt keeps its normal slot until one ends; null: delivery.concurrency; 0: no slow lane'),
    slowDestinationConnections: z.number().int().positive().default(1)
      .describe('while a destination has attempts past delivery.slowAttemptAfter, a new attempt to it starts only while fewer than this many of its attempts count against delivery.concurrency (younger ones, and past ones that found the slow lane full)'),
    slowMemory: z.object({
      destinations: z.number().int().min(0).default(10_000)
        .describe('destinations remembered as slow at most (the least recently slow forgotten first); 0: none remembered'),
      ttl: duration('delivery.slowMemory.ttl').default('1h')
        .describe('a destination is remembered this long after its last attempt past delivery.slowAttemptAfter (or its last slow attempt ended)'),
    }).strict().default({})
      .describe('destinations whose attempts ran past delivery.slowAttemptAfter, remembered per node: a new attempt to one starts in the slow lane (not counted against delivery.concurrency); one that ends within slowAttemptAfter forgets it'),
    maxMessagesPerConnection: z.number().int().positive().default(100).describe('then the cached connection is closed'),
    connectTimeout: duration('delivery.connectTimeout').default('30s').describe('TCP connect + greeting'),
    commandTimeout: duration('delivery.commandTimeout').default('5m').describe('per SMTP command of a delivery'),
    idleConnectionTimeout: duration('delivery.idleConnectionTimeout').default('5s').describe('keep an idle outbound connection for reuse this long'),
    ipv6: z.boolean().default(true).describe('also try AAAA addresses of MX hosts'),
    mxAddresses: z.enum(['public', 'private', 'any']).default('private')
      .describe('addresses a recipient domain\'s DNS may send deliveries (and MTA-STS policy fetches) to: "public" only the internet; "private" also RFC 1918, CGNAT and IPv6 ULA networks (an internal MX); "any" also loopback, link-local (cloud metadata), unspecified and reserved addresses (tests, an MX on this host). Others are skipped like absent hosts; the smarthost is not checked'),
    tls: z.enum(['none', 'opportunistic', 'required', 'verify']).default('opportunistic')
      .describe('default outbound TLS policy where no tlsPolicies rule, DANE or MTA-STS decides: STARTTLS when offered, insist, insist on a certificate valid for the MX name, or never'),
    tlsPolicies: z.array(z.object({
      match: z.string().regex(/^\.?([a-z0-9_-]+\.)*[a-z0-9_-]+\.?$/i, 'expected a domain like "example.com", or ".example.com" for its subdomains')
        .transform((m) => m.toLowerCase().replace(/\.$/, '')),
      policy: z.enum(['none', 'opportunistic', 'required', 'verify']),
    }).strict()).default([])
      .describe('per-destination TLS policy by recipient domain, first match wins (like Postfix smtp_tls_policy_maps); "none" also turns DANE and MTA-STS off for the domain, other levels are a floor they can only raise'),
    tlsCaFile: z.string().nullable().default(null)
      .describe('PEM CA bundle that verifies MX certificates (policy verify and MTA-STS) instead of the Node CA store; for tests and private PKIs'),
    dane: z.boolean().default(true)
      .describe('check MX certificates against DNSSEC-validated TLSA records (RFC 7672); needs a validating resolver in dns.servers (the AD bit is trusted as sent)'),
    mtaSts: z.object({
      enabled: z.boolean().default(true).describe('honour recipient domains\' MTA-STS policies (RFC 8461); cached in dataDir/mta-sts/'),
      port: z.number().int().min(1).max(65535).default(443).describe('HTTPS port of mta-sts.<domain>; only tests and private deployments change it'),
      caFile: z.string().nullable().default(null).describe('PEM CA bundle that verifies policy servers instead of the Node CA store; for tests and private PKIs'),
    }).strict().default({}),
    pollInterval: duration('delivery.pollInterval').default('1s').describe('how often the scheduler looks for due work it was not told about'),
    leaseTime: duration('delivery.leaseTime').default('10m').describe('a claimed delivery is reclaimable after this, if its owner died; each attempt is cut before (by a fifth of it, at most 30s)'),
  }).strict().default({}),
  shaping: shapingSchema,
  egress: egressSchema,
  domains: z.object({
    spf: z.string().regex(/^\S+( \S+)*$/, 'expected SPF mechanisms like "include:_spf.relay.example" or "ip4:192.0.2.10 ip6:2001:db8::10"')
      .nullable().default(null)
      .describe('SPF mechanism(s) each sending domain must publish for this relay (printed and checked by `domains records/check`); null: "a:<hostname>"'),
    bounceDomain: z.object({
      label: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, 'expected one DNS label like "bounces"').default('bounces')
        .describe('the return-path host is <label>.<sending domain>'),
      target: z.string().min(1)
        .describe('what <label>.<domain> is a CNAME of: a host whose MX/A reach this relay\'s MX listener and whose SPF record covers the relay'),
      perRecipient: z.boolean().default(false)
        .describe('split every submitted message with several recipients into one copy per recipient (as tracked mail is), so each return path names one recipient and a recipient cannot forge a bounce or complaint that suppresses another; costs a stored copy and a transaction per recipient, and the copies together count against limits.maxMessageSize'),
    }).strict().nullable().default(null)
      .describe('a return-path domain aligned with each From domain, so SPF aligns for DMARC (bounce+<id>.<mac>@<label>.<domain>); null: none'),
    signUnconfiguredWith: z.union([z.string().min(1), z.literal(false), z.null()]).default(null)
      .describe('the sending domain whose keys sign mail from domains not configured here (not aligned, but signed); null: hostname, if it is a configured sending domain; false: relay such mail unsigned'),
    mtaSts: z.object({
      policyHost: z.string().min(1).describe('host serving https://mta-sts.<domain>/.well-known/mta-sts.txt for the domains (the CNAME target)'),
    }).strict().nullable().default(null)
      .describe('also print/check MTA-STS records (RFC 8461) for sending domains; null: not printed'),
    tlsRpt: z.boolean().default(false)
      .describe('also print/check a TLS-RPT record (RFC 8460): _smtp._tls.<domain> TXT with rua=mailto:tls-reports@<domain>'),
  }).strict().default({}),
  limits: z.object({
    maxMessageSize: size('limits.maxMessageSize').default('25MB').describe('SIZE advertised and enforced while reading DATA or BDAT chunks; also the total of the copies of a message split into one per recipient (tracking, one-click unsubscribe)'),
    maxRecipients: z.number().int().positive().default(100).describe('RCPT TO per transaction; more get 452 4.5.3'),
    maxLineLength: z.number().int().min(1000).default(1000)
      .describe('octets per message line incl. CRLF (RFC 5321/5322: 1000, i.e. 998 + CRLF): SMTP DATA or BDAT with a longer line is refused 550 5.6.0, a raw API message 422; raise only for legacy senders, since receivers may refuse or break such lines (and their DKIM signatures)'),
  }).strict().default({}),
  storage: z.object({
    url: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').nullable().default(null)
      .describe('PostgreSQL connection URL: several relay nodes share one queue; null: the embedded SQLite queue in dataDir'),
    poolSize: z.number().int().positive().default(10).describe('PostgreSQL connections per node'),
    statementTimeout: duration('storage.statementTimeout').default('30s').describe('PostgreSQL statement timeout; a write that times out is answered 451'),
    connectTimeout: duration('storage.connectTimeout').default('5s')
      .describe('PostgreSQL: how long a call waits for a connection (new, or a free one from the pool) before failing; bounds how long an SMTP client waits for its 451 when the database is unreachable'),
    retainFinished: duration('storage.retainFinished', MAX_PERIOD_MS).default('7d')
      .describe('keep delivered/bounced messages (without bodies) this long for `queue show`'),
    sqliteThread: z.enum(['worker', 'main']).default('worker')
      .describe('SQLite: where the relay runs the queue database: worker (a thread of its own) or main (the main thread, with listings and searches on a thread started on demand): ~10-13 MB less memory under load, but SMTP, delivery and SQLite share one core, so lower peak throughput on small messages; ignored with storage.url (PostgreSQL) and by the CLI (always main)'),
  }).strict().default({}),
  http: z.union([
    z.literal(false),
    z.object({
      host: z.string().default('127.0.0.1').describe('address to bind; 0.0.0.0 or :: for all'),
      port: z.number().int().min(0).max(65535).default(8025).describe('TCP port; 0 picks a free one'),
      tls: z.boolean().default(false).describe('serve HTTPS with the tls.cert/tls.key certificate (self-signed when those are null)'),
      bodyLimit: size('http.bodyLimit').default('40MB').describe('largest request body accepted (413 beyond); base64 attachments grow by a third'),
      trustProxy: z.union([z.boolean(), z.array(z.string())]).default(false)
        .describe('trust X-Forwarded-For from these proxy addresses (true: any) for client IPs in logs'),
      dashboard: z.boolean().default(true)
        .describe('serve the web dashboard (dashboard/dist) at / and accept its session cookies on /v1 (docs/dashboard.md); false: the API only, bearer keys only'),
      buildAtStart: z.boolean().default(false)
        .describe('build the API application (fastify, routes, schemas) in the background at start, not at the first request (/readyz 503 until it is built): a relay that takes API traffic answers its first requests without waiting ~0.5 s for it, for ~18 MB held from the start'),
      // attack30: a body dripped a byte at a time held its connection forever.
      requestTimeout: duration('http.requestTimeout').default('5m')
        .describe('a request (headers and body) must arrive within this long, else 408 and the connection is closed; a client dripping its body cannot hold a connection longer. 0: no limit'),
      // conn30: connections to the API were bounded only by the timeouts and the file limit, shared with SMTP and delivery.
      maxConnections: z.number().int().positive().default(1000)
        .describe('simultaneous connections to the API (keep-alive ones count while open); at the cap the connection idle longest (no request in flight, idle 2 s or more) is closed to make room, and with none idle a new one is answered 503 (HTTPS: closed) at accept, so a flood on this port cannot take the file descriptors SMTP and delivery need'),
      maxConnectionsPerIp: z.number().int().positive().default(100)
        .describe('simultaneous connections from one peer address (IPv6: its /64); a load balancer or reverse proxy in front is one address (trustProxy names the client of a request, not of a connection): raise this to maxConnections there'),
      // rate30: bulk routes (webhook replay, bulk message actions, suppression add/import/export) had no rate limit.
      heavyWorkPerAccountPerMinute: z.number().int().min(1).default(100_000)
        .describe('rows an account may touch per minute, per node, through the bulk API routes: events replayed to a webhook, messages of a bulk action, suppressions added, imported or exported (each 10,000 rows hold the SQLite writer ~50 ms). Beyond it 429 + Retry-After; one request of more rows than this is refused (413). The CLI is not counted'),
      // api31: listings and statistics had no budget: one account's parallel reads queued every tenant's behind them.
      heavyReadsPerAccount: z.number().int().min(1).default(4)
        .describe('listings, searches and statistics (GET /v1/events, /v1/messages, /v1/suppressions and its export, /v1/stats, /v1/queue) one account may have in flight at once, per node; one more is 429 + Retry-After, so one tenant cannot occupy the heavy-read path (the dashboard\'s overview page makes three at once)'),
      // api31: random bearer tokens each cost a store lookup, unthrottled.
      authFailures: z.object({
        maxFailures: z.number().int().positive().default(20)
          .describe('bearer tokens from one client address (IPv6: its /64; the request\'s client under trustProxy) that may fail their key lookup within failureWindow; then 429 + Retry-After before any lookup for lockout. Keys this node has in its cache, and keys that authenticated from the address in the last day, are still served'),
        failureWindow: duration('http.authFailures.failureWindow', MAX_PERIOD_MS).default('15m').describe('window in which failed lookups are counted'),
        lockout: duration('http.authFailures.lockout', MAX_PERIOD_MS).default('15m').describe('how long an address over maxFailures is answered 429 for keys not cached or trusted'),
      }).strict().default({}).describe('the throttle of failed API key authentications per client address (docs/api.md "Authentication and scopes")'),
    }).strict(),
  ]).default({}).describe('the HTTP API (/v1), /openapi.json, /healthz and /readyz, and the web dashboard; false: off'),
  metrics: z.union([
    z.literal(false),
    z.object({
      host: z.string().default('127.0.0.1')
        .describe('address to bind; the series name every account, its volumes and recipient domains, so keep it private or set token'),
      port: z.number().int().min(0).max(65535).default(9025).describe('TCP port; 0 picks a free one'),
      token: z.string().min(16, 'metrics.token: at least 16 characters').regex(/^[\x21-\x7e]+$/, 'metrics.token: printable ASCII without spaces')
        .nullable().default(null)
        .describe('bearer token a scrape must send (Authorization: Bearer <token>; Prometheus authorization.credentials); null: none, the bind address is the only protection'),
      tls: z.boolean().default(false).describe('serve HTTPS with the tls.cert/tls.key certificate (self-signed when those are null)'),
    }).strict(),
  ]).default({})
    .describe('the Prometheus listener: /metrics (plus /healthz and /readyz), apart from the public API listener; false: off'),
  events: z.object({
    retention: duration('events.retention', MAX_PERIOD_MS).default('30d').describe('keep message events this long (GET /v1/events); older ones are purged hourly'),
  }).strict().default({}),
  publicUrl: z.string().regex(/^https?:\/\/[^/\s?#]+(\/[^\s?#]*)?$/, 'expected a base URL like "https://relay.example.com"').nullable().default(null)
    .describe('where the HTTP listener is reached from the internet (behind your TLS proxy): one-click unsubscribe and tracking links start with it; null: https://<hostname>'),
  tracking: z.object({
    opens: z.boolean().default(false)
      .describe('add an open-tracking pixel to HTML mail of the streams below that does not say otherwise (X-Postlane-Track, the API\'s track.opens); a message can always ask for it itself'),
    clicks: z.boolean().default(false)
      .describe('rewrite the http(s) links of HTML mail of the streams below, unless the message says otherwise, to redirects through <publicUrl>/t/c/ that record clicks'),
    streams: z.array(z.enum(['transactional', 'broadcast'])).default(['broadcast'])
      .describe('the streams the opens/clicks defaults apply to (receipts and password resets are rarely worth tracking)'),
    eventsPerIpPerMinute: z.number().int().positive().default(600)
      .describe('opens and clicks recorded per client address per minute; beyond it the pixel and redirects are still served but not recorded, so one client cannot flood the event log. Keep it generous: Gmail and Apple fetch images for many readers from few addresses'),
  }).strict().default({})
    .describe('open and click tracking (single-recipient HTML mail only; the links use publicUrl and the links secret)'),
  suppression: z.object({
    softBounces: z.object({
      count: z.number().int().min(1).default(3).describe('consecutive soft bounces (mailbox full, expired after retries; no delivery in between) that suppress an address'),
      window: duration('suppression.softBounces.window', MAX_PERIOD_MS).default('30d').describe('…counted within this time from the first of them'),
    }).strict().nullable().default({})
      .describe('suppress an address that keeps soft-bouncing; null: soft bounces never suppress (hard bounces and complaints always do)'),
  }).strict().default({}),
  breakers: z.object({
    enabled: z.boolean().default(true).describe('watch bounce, complaint, block and deferral rates and pause broadcast sending of a scope that crosses a threshold (docs/breakers.md)'),
    scopes: z.array(z.enum(['account', 'domain', 'source'])).min(1).default(['account', 'domain'])
      .describe('what a breaker watches and pauses: an account, a sending domain (the MAIL FROM domain), an egress source (egress.sources; \'default\' for every attempt when none is configured, so \'source\' is off by default: it would pause every account)'),
    window: duration('breakers.window', MAX_PERIOD_MS).default('24h').describe('the sliding window rates are computed over (in 48 buckets); the mailbox providers judge complaint rates per day'),
    minVolume: z.number().int().min(1).default(200).describe('no breaker trips before its scope has this many attempts (deliveries for the complaint rate) in the window'),
    complaintPercent: z.number().positive().max(100).nullable().default(0.3)
      .describe('complaints per delivered message (Gmail/Yahoo 2024 sender requirements: keep it below 0.3 %); null: not watched'),
    hardBouncePercent: z.number().positive().max(100).nullable().default(5)
      .describe('hard bounces (unknown mailbox, bad domain) per final attempt (Amazon SES reviews an account at 5 %, pauses at 10 %); null: not watched'),
    blockPercent: z.number().positive().max(100).nullable().default(10)
      .describe('attempts refused as the sender\'s fault (reputation, policy, authentication; 5xx or 4xx) per attempt; null: not watched'),
    deferralPercent: z.number().positive().max(100).nullable().default(null)
      .describe('deferred attempts per attempt (greylisting makes some normal); null (the default): not watched'),
    pauseTransactional: z.boolean().default(false)
      .describe('a tripped breaker holds the scope\'s transactional mail too (by default receipts and password resets keep going)'),
  }).strict().default({})
    .describe('circuit breakers: a scope whose rate crosses a threshold has its broadcast mail held (never dropped) until an operator resumes it'),
  verify: z.object({
    extraDisposableDomains: z.string().nullable().default(null)
      .describe('a file of more disposable mailbox domains (one a line, \'#\' comments) added to the built-in list; re-read within 30 s when it changes, so a newer list needs no release; null: the built-in list only'),
    concurrency: z.number().int().min(1).max(100).default(8)
      .describe('addresses of one request (API batch, CLI run) verified at a time: bounds the DNS queries in flight per request'),
    perAccountPerMinute: z.number().int().min(1).default(600)
      .describe('addresses an account may verify per minute through POST /v1/verify, per node (each costs DNS queries); beyond it 429 + Retry-After'),
    history: z.boolean().default(true)
      .describe('read the account\'s delivered/bounced/complained events for each address (hard bounces since lifted from the suppression list, deliveries). There is no index on event recipients yet: on SQLite each address scans the account\'s events within events.retention (about 100 ms per 200,000 events), one at a time per node; false: the suppression list alone, which holds every hard bounce and complaint'),
    smtpProbe: z.union([z.literal(false), z.object({
      timeout: duration('verify.smtpProbe.timeout').default('10s').describe('per read of one probe dialog (connect, greeting, each reply, which must be whole within it)'),
      perHostPerMinute: z.number().int().min(1).default(6)
        .describe('probes per MX host name and per MX address per minute, per node: beyond it the probe is skipped (a burst of RCPTs from one address is what gets it blocklisted; many names can point at one address)'),
      skipMxHosts: z.array(z.string().regex(/^[a-z0-9.-]+$/, 'a lower-case host or domain')).default(PROBE_SKIP_MX_HOSTS)
        .describe('never probe MX hosts equal to or under these names: providers known to blocklist probers (default: Google, Yahoo/AOL, Microsoft, Apple)'),
    }).strict()]).default(false)
      .describe('the optional SMTP RCPT probe (EHLO, MAIL FROM:<>, RCPT TO the address and a random one for catch-all, QUIT; never DATA) from this host on delivery.port; false: off. Read docs/verification.md on its risks first'),
  }).strict().default({})
    .describe('address verification (POST /v1/verify, postlane verify): docs/verification.md'),
  webhooks: z.object({
    timeout: duration('webhooks.timeout').default('10s').describe('per POST to a webhook URL'),
    batchSize: z.number().int().min(1).max(1000).default(100).describe('events per POST at most'),
    concurrency: z.number().int().positive().default(10).describe('webhook POSTs in flight per node'),
    retryFor: duration('webhooks.retryFor', MAX_PERIOD_MS).default('24h').describe('keep retrying an event this long (with backoff) before dropping it'),
    disableAfter: duration('webhooks.disableAfter', MAX_PERIOD_MS).default('24h').describe('disable a webhook (event webhook.disabled) that has failed continuously this long'),
    pollInterval: duration('webhooks.pollInterval').default('1s').describe('how often each node looks for pending webhook deliveries'),
    allowPrivateDestinations: z.boolean().default(false)
      .describe('let webhooks reach loopback, private, link-local and other non-public addresses; off, a tenant cannot aim the relay at internal services or cloud metadata (SSRF)'),
    // attack30: one tenant's webhooks cannot hold every POST slot.
    concurrencyPerAccount: z.number().int().positive().default(3)
      .describe('webhook POSTs in flight per node for one account at most (of webhooks.concurrency): a tenant whose webhook servers answer slowly or never holds only these, and other accounts\' events still go out'),
    maxPerAccount: z.number().int().positive().default(20)
      .describe('webhooks one account may create through the API (409 beyond; the CLI is not limited): every event is queued once per webhook in the transaction that writes it, so thousands of webhooks made each of the tenant\'s events hold the store for everyone'),
  }).strict().default({}),
  tlsReporting: z.object({
    enabled: z.boolean().default(true)
      .describe('SMTP TLS Reporting (RFC 8460): count outbound TLS sessions to domains with an MTA-STS or DANE policy, and once a day send each domain that publishes _smtp._tls TXT with rua= its report (mailto: queued like a DSN, https: POSTed)'),
    organization: z.string().min(1).nullable().default(null).describe('organization-name of the reports; null: the hostname'),
    contact: z.string().min(1).nullable().default(null).describe('contact-info of the reports; null: postmaster@<hostname>'),
    hour: z.number().int().min(0).max(23).default(1)
      .describe('UTC hour from which the previous day\'s reports go out (one node sends each report); counters of every node are flushed well before'),
    from: z.string().regex(/^[^\s@]+@[^\s@]+$/, 'expected an address like tls-reports@relay.example.com').nullable().default(null)
      .describe('From address of mailed reports (the report is DKIM-signed as the hostname when it is a sending domain); null: tls-reports@<hostname>'),
    caFile: z.string().nullable().default(null).describe('PEM CA bundle that verifies https: report endpoints instead of the Node CA store; for tests and private PKIs'),
    allowPrivateDestinations: z.boolean().default(false)
      .describe('let https: report endpoints (taken from any domain\'s DNS) be loopback, private, link-local or other non-public addresses; off, a hostile domain cannot aim the relay at internal services (SSRF), as for webhooks'),
  }).strict().default({}),
  log: z.object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  }).strict().default({}),
}).strict();

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type ListenerConfig = Exclude<Config['smtp']['submission'], false>;
export type SmarthostConfig = NonNullable<Config['delivery']['smarthost']>;
export type DomainsConfig = Config['domains'];
export type EgressConfig = Config['egress'];
export type EgressSourceConfig = EgressConfig['sources'][number];
