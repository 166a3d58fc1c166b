// `postlane accounts add|list|limits|tracking-domain|remove`: accounts (tenants), their plans
// (quotas and rate limits) and the host of their tracking and unsubscribe links. An account owns SMTP users, sending domains, API keys, webhooks and events; 'default'
// always exists (the single-tenant setup) and cannot be removed. Exit codes: 2 usage or
// refused, 3 unknown account.
import { pausedReason } from './breakers.js';
import type { Command } from 'commander';
import { isValidAccountName } from '../accounts/account-name.js';
import { changeAccountLimits } from '../accounts/account-admin.js';
import { NotFoundError, RelayError } from '../errors.js';
import { DEFAULT_ACCOUNT, type Account } from '../store/platform-store.js';
import type { QueueStore } from '../store/store.js';
import { withHost } from '../accounts/link-base.js';
import { publicBaseUrl } from '../config/public-url.js';
import { createResolver, DnsLookupError, type RecordResolver } from '../delivery/resolver.js';
import { normalizeDomain } from '../domains/domain-name.js';
import { configOption, withStore } from './admin-store.js';
import {
  addLimitOptions, formatLimits, formatUsage, limitsFrom, mergeLimits, usageOf, type LimitOptions,
} from './limits-options.js';

/** Whether `domain` is a CNAME to `target` (the publicUrl host), as DNS answers now. */
async function checkTrackingCname(resolver: RecordResolver, domain: string, target: string): Promise<{ ok: boolean; text: string }> {
  try {
    const found = (await resolver.resolveCname(domain)).map((t) => t.replace(/\.$/, '').toLowerCase());
    if (found.includes(target.toLowerCase())) return { ok: true, text: `ok (${domain} is a CNAME to ${target})` };
    return { ok: false, text: `${domain} is a CNAME to ${found.join(', ')}, not ${target}` };
  } catch (err) {
    const reason = err instanceof DnsLookupError && (err.failure === 'nodata' || err.failure === 'nxdomain') ? 'no CNAME record yet' : `lookup failed (${(err as Error).message})`;
    return { ok: false, text: `${domain}: ${reason}` };
  }
}

const out = (s = ''): void => { process.stdout.write(s + '\n'); };
const iso = (ms: number) => new Date(ms).toISOString();

/** An account name from the command line; ERR_USAGE if it is not one. */
export function accountArg(name: string): string {
  if (!isValidAccountName(name)) throw new RelayError('ERR_USAGE', `invalid account name "${name}" (lower-case letters, digits, _ and -; at most 63)`);
  return name;
}

/** The account, or ERR_NOT_FOUND (exit 3). */
export async function requireAccount(store: QueueStore, name: string): Promise<Account> {
  const account = await store.getAccount(name);
  if (!account) throw new NotFoundError(`account ${name}`);
  return account;
}

/** What the account still owns (remove refuses a non-empty account without --force). */
async function contentsOf(store: QueueStore, name: string) {
  const [users, domains, keys, webhooks] = await Promise.all([
    store.listUsers(name), store.listDomains(name), store.listApiKeys(name), store.listWebhooks(name),
  ]);
  return { users: users.length, domains: domains.length, keys: keys.filter((k) => k.revokedAt === null).length, webhooks: webhooks.length };
}

async function listAccounts(opts: { config?: string; json?: boolean }) {
  const now = Date.now();
  const rows = await withStore(opts.config, async (store) => {
    const open = await store.listBreakers({ open: true, limit: 1000 });
    return Promise.all((await store.listAccounts()).map(async (a) => ({
      name: a.name, createdAt: iso(a.createdAt), limits: a.limits, usage: await usageOf(store, `account:${a.name}`, a.limits, now),
      trackingDomain: a.trackingDomain ?? null,
      // The account's open circuit breakers: its own, and those of scopes its mail tripped (a sending domain).
      breakers: open.filter((b) => b.account === a.name || (b.scope.type === 'account' && b.scope.key === a.name)),
    })));
  });
  if (opts.json) return out(JSON.stringify(rows));
  for (const r of rows) {
    out(`${r.name}\t${r.createdAt}\tlimits ${formatLimits(r.limits)}\tused ${formatUsage(r.usage)}${r.trackingDomain ? `\tlinks ${r.trackingDomain}` : ''}`
      + r.breakers.map((b) => `\t${pausedReason(b)}`).join(''));
  }
}

export function registerAccountCommands(program: Command) {
  const accounts = program.command('accounts').description('accounts (tenants): their users, domains, API keys and plans (quotas)');

  addLimitOptions(accounts.command('add <name>')
    .description('add an account, optionally with its limits (a plan)')
    .addOption(configOption())
    .option('--json', 'machine-readable output'), 'the account')
    .action(async (input: string, opts: LimitOptions & { config?: string; json?: boolean }) => {
      const name = accountArg(input);
      const account: Account = { name, createdAt: Date.now(), limits: mergeLimits({}, limitsFrom(opts)) };
      await withStore(opts.config, (store) => store.addAccount(account));
      if (opts.json) return out(JSON.stringify({ name, createdAt: iso(account.createdAt), limits: account.limits }));
      out(`account ${name} added (limits: ${formatLimits(account.limits)})`);
    });

  accounts.command('list')
    .description('accounts with their limits and the current usage of each limited window')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action(listAccounts);

  addLimitOptions(accounts.command('limits <name>')
    .description('set the account\'s limits: the named windows change, the others stay; none clears one')
    .addOption(configOption())
    .option('--json', 'machine-readable output'), 'the account')
    .action(async (name: string, opts: LimitOptions & { config?: string; json?: boolean }) => {
      const change = limitsFrom(opts);
      const limits = await withStore(opts.config, (store) => changeAccountLimits(store, name, change));
      if (opts.json) return out(JSON.stringify({ name, limits }));
      out(`account ${name} limits: ${formatLimits(limits)}`);
    });

  accounts.command('tracking-domain <name> [domain]')
    .description('the account\'s own host for tracking and unsubscribe links (a CNAME to the relay\'s publicUrl host); without a domain, show it')
    .addOption(configOption())
    .option('--clear', 'links go back to publicUrl\'s host')
    .option('--json', 'machine-readable output')
    .action(async (name: string, input: string | undefined, opts: { config?: string; clear?: boolean; json?: boolean }) => {
      if (input !== undefined && opts.clear) throw new RelayError('ERR_USAGE', 'give a domain or --clear, not both');
      const domain = input === undefined ? undefined : normalizeDomain(input);
      if (domain === null) throw new RelayError('ERR_USAGE', `invalid tracking domain "${input}" (a host name such as track.example.com)`);
      const result = await withStore(opts.config, async (store, config) => {
        const account = await requireAccount(store, name);
        let current = account.trackingDomain ?? null;
        if (domain !== undefined || opts.clear) {
          current = domain ?? null;
          if (!(await store.setAccountTrackingDomain(name, current))) throw new NotFoundError(`account ${name}`);
        }
        const base = publicBaseUrl(config);
        const target = new URL(base).hostname;
        const dns = current ? await checkTrackingCname(createResolver(config.dns), current, target) : null;
        return { name, trackingDomain: current, linkBase: current ? withHost(base, current) : base, cname: current ? { name: current, target } : null, dns };
      });
      if (opts.json) return out(JSON.stringify(result));
      if (!result.trackingDomain) return out(`account ${name}: links use publicUrl (${result.linkBase})`);
      out(`account ${name}: links use ${result.linkBase}`);
      out(`publish: ${result.cname!.name}. CNAME ${result.cname!.target}.`);
      out(`DNS: ${result.dns!.text}`);
      if (!result.dns!.ok) out('(the links of mail accepted from now on name this host: publish the record first, and your TLS proxy needs a certificate for it)');
    });

  accounts.command('remove <name>')
    .description('remove an account and what it owns (users, domains, keys, webhooks, events); refused while it owns any, without --force')
    .addOption(configOption())
    .option('--force', 'remove it with everything it owns')
    .action(async (name: string, opts: { config?: string; force?: boolean }) => {
      if (name === DEFAULT_ACCOUNT) throw new RelayError('ERR_ACCOUNT_DEFAULT', 'the default account cannot be removed');
      await withStore(opts.config, async (store) => {
        await requireAccount(store, name);
        const owned = await contentsOf(store, name);
        const listed = Object.entries(owned).filter(([, n]) => n > 0).map(([what, n]) => `${n} ${n === 1 ? what.replace(/s$/, '') : what}`);
        if (listed.length && !opts.force) {
          throw new RelayError('ERR_ACCOUNT_NOT_EMPTY', `account ${name} still owns ${listed.join(', ')}; remove them first, or use --force`);
        }
        if (!(await store.removeAccount(name))) throw new NotFoundError(`account ${name}`);
      });
      out(`account ${name} removed`);
    });
}
