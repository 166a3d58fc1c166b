// `postlane domains …`: sending domains and their DKIM keys. add/rotate-key create keys (kept in
// the data store, never printed); records prints what to publish in DNS; check compares it with
// what the configured resolvers answer. Exit codes: 0 ok, 2 usage, 3 unknown domain, 4 the check
// found a required record missing or wrong (or the domain is not configured). The printed records
// end with what they depend on: a hostname that is not fully qualified (the SPF hint a:<hostname>),
// and the MTA-STS / TLS-RPT records that are left out until configured.
import type { Command } from 'commander';
import { Option } from 'commander';
import { systemClock } from '../clock.js';
import { HOSTNAME_FIX, isFullyQualified } from '../config/hostname.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
// Not domains/index.js: that also loads the signer (mailauth), which no command here needs.
import { KEY_CHOICES, readDkimKeyFile, type KeyChoice } from '../domains/dkim-keys.js';
import { checkRecords, hasProblems, type RecordCheck } from '../domains/domain-check.js';
import { normalizeDomain } from '../domains/domain-name.js';
import { formatZoneLine, type ExpectedRecord } from '../domains/dns-records.js';
import { rotateKey } from '../domains/key-rotation.js';
import { addSendingDomain, removeSendingDomain } from '../domains/domain-admin.js';
import { recordsFor } from '../domains/sending-domain.js';
import { NotFoundError, RelayError } from '../errors.js';
import type { QueueStore, SendingDomain } from '../store/store.js';
import { DEFAULT_ACCOUNT } from '../store/platform-store.js';
import { configOption, withStore } from './admin-store.js';
import { accountArg } from './accounts.js';

const EXIT_CHECK_FAILED = 4;
const out = (s = ''): void => { process.stdout.write(s + '\n'); };
const iso = (ms: number) => new Date(ms).toISOString();

/** A domain named on the command line, normalized; ERR_USAGE if it is not one. */
export function domainArg(input: string): string {
  const d = normalizeDomain(input);
  if (!d) throw new RelayError('ERR_USAGE', `"${input}" is not a domain name`);
  return d;
}

/** Public view of a domain: never the private keys. */
const describe = (d: SendingDomain) => ({
  name: d.name, account: d.account ?? DEFAULT_ACCOUNT, createdAt: iso(d.createdAt),
  keys: d.keys.map((k) => ({ selector: k.selector, algorithm: k.algorithm, state: k.state, createdAt: iso(k.createdAt) })),
});

/** What the printed records depend on that the operator may not have set up (as zone-file comments). */
function recordCaveats(cfg: Config): string[] {
  const lines: string[] = [];
  if (cfg.domains.spf === null && !isFullyQualified(cfg.hostname)) {
    lines.push(`; WARNING: hostname "${cfg.hostname}" is not a fully qualified domain name, so the SPF mechanism a:${cfg.hostname} is wrong: ${HOSTNAME_FIX} (or set domains.spf).`);
  }
  const off = [cfg.domains.mtaSts ? null : 'MTA-STS (set domains.mtaSts.policyHost)', cfg.domains.tlsRpt ? null : 'TLS-RPT (set domains.tlsRpt: true)'].filter(Boolean);
  if (off.length) lines.push(`; Not shown, because not configured: ${off.join(', ')}.`);
  return lines;
}

function printRecords(domain: string, records: ExpectedRecord[], cfg: Config) {
  out(`DNS records for ${domain}: publish these at the domain's DNS provider.`);
  for (const r of records) {
    const what = r.key ? `DKIM, selector ${r.key.selector} (${r.key.algorithm}, ${r.key.state})` : r.purpose.toUpperCase();
    out();
    out(`; ${what}${r.required ? '' : ' (optional)'}`);
    out(formatZoneLine(r));
    if (r.note) out(`; ${r.note}`);
  }
  const caveats = recordCaveats(cfg);
  if (caveats.length) out();
  for (const line of caveats) out(line);
}

/** The domain whose keys sign mail from unconfigured domains (message-signer.ts), if it can sign. */
async function fallbackSigner(cfg: Config, store: QueueStore): Promise<string | null> {
  const setting = cfg.domains.signUnconfiguredWith;
  if (setting === false) return null;
  const d = await store.getDomain(setting ?? cfg.hostname);
  return d?.keys.some((k) => k.state === 'active') ? d.name : null;
}

/** unconfigured: null for a sending domain, else the domain its mail is signed as instead (null: unsigned). */
function printChecks(domain: string, checks: RecordCheck[], unconfigured: { signedAs: string | null } | null) {
  if (unconfigured) {
    const how = unconfigured.signedAs ? `signed as ${unconfigured.signedAs} (not aligned for DMARC)` : 'relayed unsigned';
    out(`${domain} is NOT a configured sending domain: its mail is ${how}.`);
    out(`Add it with: postlane domains add ${domain}`);
  }
  for (const c of checks) {
    const label = c.record.key ? `DKIM ${c.record.key.selector}` : c.record.purpose.toUpperCase();
    out(`${c.status.toUpperCase().padEnd(8)} ${label.padEnd(24)} ${c.record.type} ${c.record.name}${c.record.required ? '' : ' (optional)'}`);
    for (const f of c.status === 'ok' ? [] : c.found) out(`         found: "${f}"`);
    if (c.fix) out(`         fix: ${c.fix}`);
    if (c.detail) out(`         note: ${c.detail}`);
  }
}

async function withStoreAndConfig<T>(file: string | undefined, fn: (cfg: Config, store: QueueStore) => Promise<T>): Promise<T> {
  const cfg = loadConfig({ file });
  return withStore(file, (store) => fn(cfg, store));
}

async function addDomain(input: string, opts: { config?: string; selector?: string; key: KeyChoice; privateKey?: string; json?: boolean; account: string }) {
  const name = domainArg(input);
  const account = accountArg(opts.account);
  const privateKeyPem = opts.privateKey ? (await readDkimKeyFile(opts.privateKey)).privateKey : undefined;
  const [cfg, domain] = await withStoreAndConfig(opts.config, async (c, store) =>
    [c, await addSendingDomain(store, name, account, { key: opts.key, selector: opts.selector, privateKeyPem, now: systemClock.now() })] as const);
  const records = recordsFor(domain, cfg);
  if (opts.json) return out(JSON.stringify({ domain: describe(domain), records }));
  out(`domain ${name} added (${domain.keys.map((k) => `${k.selector}: ${k.algorithm}`).join(', ')}${privateKeyPem ? ', imported' : ''})\n`);
  printRecords(name, records, cfg);
}

async function checkDomain(input: string, opts: { config?: string; json?: boolean }) {
  const name = domainArg(input);
  const [cfg, domain, signedAs] = await withStoreAndConfig(opts.config,
    async (c, store) => [c, await store.getDomain(name), await fallbackSigner(c, store)] as const);
  const records = recordsFor(domain ?? { name, createdAt: systemClock.now(), keys: [] }, cfg);
  const { createResolver } = await import('../delivery/index.js'); // loaded only for this command
  const checks = await checkRecords(records, createResolver(cfg.dns));
  const unconfigured = domain ? null : { signedAs };
  if (opts.json) out(JSON.stringify({ domain: name, configured: domain !== null, ...(unconfigured ?? {}), checks }));
  else printChecks(name, checks, unconfigured);
  if (!domain || hasProblems(checks)) process.exitCode = EXIT_CHECK_FAILED;
}

export function registerDomainCommands(program: Command) {
  const domains = program.command('domains').description('sending domains: DKIM keys, DNS records to publish, and their check');

  domains.command('add <domain>')
    .description('add a sending domain with a new (or imported) DKIM key and print the DNS records to publish')
    .addOption(configOption())
    .option('--selector <selector>', 'DKIM selector (default pl<yyyymmdd>; with --key both, <selector>-rsa and <selector>-ed25519)')
    .addOption(new Option('--key <type>', 'key(s) to generate').choices(KEY_CHOICES as string[]).default('rsa2048'))
    .option('--private-key <file>', 'import this PEM private key (RSA or Ed25519) instead of generating one')
    .option('--account <name>', 'the account that owns the domain (only its users may be granted it)', DEFAULT_ACCOUNT)
    .option('--json', 'machine-readable output')
    .action(addDomain);

  domains.command('list')
    .description('sending domains, their DKIM selectors and account')
    .addOption(configOption())
    .option('--account <name>', 'only this account\'s domains (default: every account)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { config?: string; json?: boolean; account?: string }) => {
      const account = opts.account === undefined ? undefined : accountArg(opts.account);
      const list = (await withStore(opts.config, (s) => s.listDomains(account))).map(describe);
      if (opts.json) return out(JSON.stringify(list));
      for (const d of list) out(`${d.name}\t${d.keys.map((k) => `${k.selector}(${k.algorithm},${k.state})`).join(' ') || '-'}\t${d.createdAt}\taccount ${d.account}`);
    });

  domains.command('remove <domain>')
    .description('remove a sending domain and its keys (its mail is no longer signed as it) and its account\'s SMTP users\' grants within it')
    .addOption(configOption())
    .action(async (input: string, opts: { config?: string }) => {
      const name = domainArg(input);
      await withStore(opts.config, (s) => removeSendingDomain(s, name));
      out(`domain ${name} removed`);
    });

  domains.command('records <domain>')
    .description('print the DNS records to publish for a sending domain')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action(async (input: string, opts: { config?: string; json?: boolean }) => {
      const name = domainArg(input);
      const [cfg, domain] = await withStoreAndConfig(opts.config, async (c, s) => [c, await s.getDomain(name)] as const);
      if (!domain) throw new NotFoundError(`domain ${name}`);
      if (opts.json) out(JSON.stringify(recordsFor(domain, cfg)));
      else printRecords(name, recordsFor(domain, cfg), cfg);
    });

  domains.command('check <domain>')
    .description('query DNS (the configured resolvers) and report each record: ok, missing, wrong, with the fix')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action(checkDomain);

  domains.command('rotate-key <domain>')
    .description('create a new DKIM key (new selector); the relay switches to it once its record is seen in DNS')
    .addOption(configOption())
    .option('--selector <selector>', 'selector for the new key (default pl<yyyymmdd>)')
    .action(async (input: string, opts: { config?: string; selector?: string }) => {
      const name = domainArg(input);
      const [cfg, keys] = await withStoreAndConfig(opts.config,
        async (c, s) => [c, await rotateKey(s, name, { clock: systemClock, selector: opts.selector })] as const);
      out(`new key(s) for ${name}: ${keys.map((k) => `${k.selector} (${k.algorithm})`).join(', ')}; the current key keeps signing.`);
      out('Publish the record(s) below; the running relay switches once it sees them in DNS.');
      out('Keep the old selector\'s record published until mail signed with it has left the queue (delivery.maxQueueTime).\n');
      for (const r of recordsFor({ name, createdAt: 0, keys: [...keys] }, cfg)) {
        if (r.purpose === 'dkim') out(formatZoneLine(r));
      }
    });
}
