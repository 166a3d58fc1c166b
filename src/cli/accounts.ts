// `postlane accounts add|list|limits|remove`: accounts (tenants) and their plans (quotas and rate
// limits). An account owns SMTP users, sending domains, API keys, webhooks and events; 'default'
// always exists (the single-tenant setup) and cannot be removed. Exit codes: 2 usage or
// refused, 3 unknown account.
import type { Command } from 'commander';
import { isValidAccountName } from '../accounts/account-name.js';
import { NotFoundError, RelayError } from '../errors.js';
import { DEFAULT_ACCOUNT, type Account } from '../store/platform-store.js';
import type { QueueStore } from '../store/store.js';
import { configOption, withStore } from './admin-store.js';
import {
  addLimitOptions, formatLimits, formatUsage, hasAnyLimitOption, limitsFrom, mergeLimits, usageOf, type LimitOptions,
} from './limits-options.js';

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
  const rows = await withStore(opts.config, async (store) => Promise.all((await store.listAccounts()).map(async (a) => ({
    name: a.name, createdAt: iso(a.createdAt), limits: a.limits, usage: await usageOf(store, `account:${a.name}`, a.limits, now),
  }))));
  if (opts.json) return out(JSON.stringify(rows));
  for (const r of rows) out(`${r.name}\t${r.createdAt}\tlimits ${formatLimits(r.limits)}\tused ${formatUsage(r.usage)}`);
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
      const limits = await withStore(opts.config, async (store) => {
        const account = await requireAccount(store, name);
        if (!hasAnyLimitOption(opts)) return account.limits;
        const next = mergeLimits(account.limits, change);
        if (!(await store.setAccountLimits(name, next))) throw new NotFoundError(`account ${name}`);
        return next;
      });
      if (opts.json) return out(JSON.stringify({ name, limits }));
      out(`account ${name} limits: ${formatLimits(limits)}`);
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
