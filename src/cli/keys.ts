// `postlane keys create|list|revoke`: API keys of one account. create prints the token once (the
// only line on stdout, or inside the --json object) and stores only its hash; list never shows
// secrets or hashes. Like every command, --account defaults to the `default` account.
// Exit codes: 2 usage, 3 unknown account or key.
import type { Command } from 'commander';
import { newApiKey } from '../accounts/api-keys.js';
import { NotFoundError, RelayError } from '../errors.js';
import { API_SCOPES, DEFAULT_ACCOUNT, type ApiKeyRecord, type ApiScope } from '../store/platform-store.js';
import { accountArg, requireAccount } from './accounts.js';
import { configOption, withStore } from './admin-store.js';
import { addLimitOptions, formatLimits, limitsFrom, mergeLimits, type LimitOptions } from './limits-options.js';

const out = (s = ''): void => { process.stdout.write(s + '\n'); };
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function scopesArg(input: string): ApiScope[] {
  const scopes = input.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = scopes.filter((s) => !(API_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || bad.length) throw new RelayError('ERR_USAGE', `--scope takes a comma-separated list of ${API_SCOPES.join(', ')}${bad.length ? ` (not ${bad.join(', ')})` : ''}`);
  return [...new Set(scopes)] as ApiScope[];
}

/** Public view of a key: never its hash. */
const describe = (k: ApiKeyRecord) => ({
  id: k.id, account: k.account, name: k.name, scopes: k.scopes, limits: k.limits,
  createdAt: iso(k.createdAt), lastUsedAt: iso(k.lastUsedAt), revokedAt: iso(k.revokedAt),
});

export function registerKeyCommands(program: Command) {
  const keys = program.command('keys').description('API keys of an account (Authorization: Bearer <token>)');

  addLimitOptions(keys.command('create')
    .description('create an API key; its token is printed once, on stdout, and never shown again')
    .addOption(configOption())
    .option('--account <name>', 'the account the key acts for', DEFAULT_ACCOUNT)
    .requiredOption('--scope <scopes>', `required: comma-separated ${API_SCOPES.join(', ')} (send to submit mail; admin implies the others)`)
    .option('--name <name>', 'a label for the key')
    .option('--json', 'print {id, account, scopes, ..., token} instead of the bare token'), 'this key, on top of the account\'s')
    .action(async (opts: LimitOptions & { config?: string; account: string; scope: string; name?: string; json?: boolean }) => {
      const account = accountArg(opts.account);
      const scopes = scopesArg(opts.scope);
      const { record, token } = newApiKey({ account, scopes, name: opts.name ?? null, limits: mergeLimits({}, limitsFrom(opts)), now: Date.now() });
      await withStore(opts.config, async (store) => {
        await requireAccount(store, account);
        await store.addApiKey(record);
      });
      if (opts.json) return out(JSON.stringify({ ...describe(record), token }));
      process.stderr.write(`API key ${record.id} created for account ${account} (scopes ${scopes.join(', ')}; limits ${formatLimits(record.limits)}). The token below is shown once.\n`);
      out(token);
    });

  keys.command('list')
    .description('the account\'s API keys (id, name, scopes, last use, revoked); never their secrets')
    .addOption(configOption())
    .option('--account <name>', 'the account', DEFAULT_ACCOUNT)
    .option('--json', 'machine-readable output')
    .action(async (opts: { config?: string; account: string; json?: boolean }) => {
      const account = accountArg(opts.account);
      const list = await withStore(opts.config, async (store) => {
        await requireAccount(store, account);
        return (await store.listApiKeys(account)).map(describe);
      });
      if (opts.json) return out(JSON.stringify(list));
      for (const k of list) {
        out(`${k.id}\t${k.name ?? '-'}\t${k.scopes.join(',')}\t${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}\tlast used ${k.lastUsedAt ?? 'never'}\tlimits ${formatLimits(k.limits)}`);
      }
    });

  keys.command('revoke <id>')
    .description('revoke an API key (it stays listed as revoked); running relays refuse it within 5 seconds')
    .addOption(configOption())
    .option('--account <name>', 'the account that owns the key', DEFAULT_ACCOUNT)
    .action(async (id: string, opts: { config?: string; account: string }) => {
      const account = accountArg(opts.account);
      const revoked = await withStore(opts.config, (store) => store.revokeApiKey(account, id, Date.now()));
      if (!revoked) throw new NotFoundError(`API key ${id} in account ${account}`);
      out(`API key ${id} revoked`);
    });
}
