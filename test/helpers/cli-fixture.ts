// What CLI tests run against a RelayProcess's config, each a real `postlane … --config` child
// process (RelayProcess.cli): the command (`cli`), the command that must succeed (`ok`, failing
// the test with its stderr otherwise; `okWithInput` feeds it stdin; `out` is its trimmed stdout),
// the accounts, sending domains, SMTP users and API keys a test makes before it starts the relay
// (`addTenant`), and the relay's own SQLite store opened in the test process for what the CLI
// cannot show. One place for all of it: tests do not write their own `cli` closures.
import assert from 'node:assert/strict';
import path from 'node:path';
import { pino } from 'pino';
import { SqliteQueueStore } from '../../src/store/sqlite/sqlite-store.js';
import type { DnsServer } from './dns-server.js';
import type { RelayProcess } from './relay-process.js';

/** What `addTenant` makes, in this order, each by its own CLI command that must succeed. */
export interface TenantSpec {
  /** `accounts add <account> [...limits]` */
  account: string;
  /** `accounts add` options, e.g. ['--per-day', '30'] */
  limits?: string[];
  /** `domains add <domain> --account <account> --key ed25519` */
  domain?: string;
  /** With `domain`: made by RelayProcess.addSigningDomain (selector s1) and its DKIM TXT record published here. */
  publishOn?: Pick<DnsServer, 'set'>;
  /** `users add <name> --account <account> [--domain <domain>] --password <password> [...args]` */
  users?: { name: string; password: string; args?: string[] }[];
  /** `keys create --account <account> --scope <scope> [...args]`: its token is what addTenant returns. */
  key?: { scope: string; args?: string[] };
}

export function cliFixture(relay: () => RelayProcess) {
  const cli = async (...args: string[]) => relay().cli(args);
  const okWithInput = async (input: string | undefined, ...args: string[]) => {
    const r = await relay().cli(args, input);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const ok = async (...args: string[]) => okWithInput(undefined, ...args);
  const out = async (...args: string[]) => (await ok(...args)).stdout.trim();

  function addTenant(spec: TenantSpec & { key: NonNullable<TenantSpec['key']> }): Promise<string>;
  function addTenant(spec: TenantSpec): Promise<string | undefined>;
  async function addTenant(spec: TenantSpec): Promise<string | undefined> {
    const { account, domain } = spec;
    await ok('accounts', 'add', account, ...(spec.limits ?? []));
    if (domain !== undefined) {
      const args = ['--account', account, '--key', 'ed25519'];
      if (spec.publishOn) await relay().addSigningDomain(spec.publishOn, domain, [...args, '--selector', 's1']);
      else await ok('domains', 'add', domain, ...args);
    }
    for (const u of spec.users ?? []) {
      await ok('users', 'add', u.name, '--account', account, ...(domain !== undefined ? ['--domain', domain] : []), '--password', u.password, ...(u.args ?? []));
    }
    return spec.key ? out('keys', 'create', '--account', account, '--scope', spec.key.scope, ...(spec.key.args ?? [])) : undefined;
  }

  const withStore = async <T>(fn: (s: SqliteQueueStore) => Promise<T>) => {
    const store = new SqliteQueueStore({ dataDir: path.join(relay().dir, 'data'), logger: pino({ level: 'silent' }) });
    await store.open();
    try { return await fn(store); } finally { await store.close(); }
  };
  return { cli, ok, okWithInput, out, addTenant, withStore };
}
