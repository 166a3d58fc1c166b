// `postlane users add|list|remove|allow|limits`: SMTP AUTH users, the account each belongs to,
// the sender domains each may use and its own limits. Passwords come from --password, a prompt
// (no echo) or stdin, are hashed with scrypt, and are never printed or logged.
//
// Domain grants and accounts: a user of account X may be granted a domain only if it (or a parent
// domain) is a sending domain of X; users of 'default' may also be granted domains that are not
// sending domains (the single-tenant setup, unchanged), but never another account's domain.
import type { Command } from 'commander';
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { isValidUserName } from '../users/password.js';
import { changeSmtpUser, checkDomainsBelong, checkPassword, createSmtpUser } from '../users/smtp-user-admin.js';
import { RelayError } from '../errors.js';
import { configOption, withStore } from './admin-store.js';
import { domainArg } from './domains.js';
import type { QueueStore, UserDomainGrant } from '../store/store.js';
import { DEFAULT_ACCOUNT } from '../store/platform-store.js';
import { accountArg, requireAccount } from './accounts.js';
import { addLimitOptions, formatLimits, hasAnyLimitOption, limitsFrom, mergeLimits, type LimitOptions } from './limits-options.js';

const noPassword = () => new RelayError('ERR_USAGE', 'no password given (type it at the prompt, pipe it on stdin, or use --password)');

export async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    if (password === '') throw noPassword();
    return password;
  }
  let muted = false;
  const out = new Writable({ write: (chunk, _enc, cb) => { if (!muted) process.stderr.write(chunk); cb(); } });
  const rl = readline.createInterface({ input: process.stdin, output: out, terminal: true });
  // Ctrl-C (the terminal is raw while reading): leave as a shell would, 130.
  rl.on('SIGINT', () => { rl.close(); process.stderr.write('\n'); process.exit(130); });
  // Ctrl-D closes the input: no answer is coming.
  const ask = (q: string) => new Promise<string>((resolve, reject) => {
    muted = false; process.stderr.write(q); muted = true;
    const onClose = () => { process.stderr.write('\n'); reject(noPassword()); };
    rl.once('close', onClose);
    rl.question('', (answer) => { rl.off('close', onClose); process.stderr.write('\n'); resolve(answer); });
  });
  try {
    const first = await ask('Password: ');
    if (first === '') throw noPassword();
    const second = await ask('Repeat password: ');
    if (first !== second) throw new RelayError('ERR_USAGE', 'passwords do not match');
    return first;
  } finally { rl.close(); }
}

const grantText = (g: UserDomainGrant) => (g.anyDomain ? 'any domain' : g.allowedDomains.length ? [...new Set(g.allowedDomains)].join(', ') : 'no domain');

export function registerUserCommands(program: Command) {
  const streamArg = (s: string): 'transactional' | 'broadcast' => {
    if (s === 'transactional' || s === 'broadcast') return s;
    throw new RelayError('ERR_USAGE', `invalid stream "${s}" (transactional or broadcast)`);
  };
  const users = program.command('users').description('manage SMTP AUTH users');

  const add = users.command('add <name>')
    .description('add a user; the password comes from --password, a prompt, or stdin')
    .addOption(configOption())
    .option('--password <password>', 'the password (visible in the process list: prefer the prompt or stdin)')
    .option('--domain <domain...>', 'sender domains the user may use (MAIL FROM and From:), subdomains included')
    .option('--any-domain', 'the user may send as any domain')
    .option('--account <name>', 'the account the user belongs to (its mail counts against that account\'s quotas)', DEFAULT_ACCOUNT)
    .option('--stream <stream>', 'the stream of the user\'s messages that name none with X-Postlane-Stream: transactional or broadcast', 'transactional');
  addLimitOptions(add, 'this user, on top of the account\'s')
    .action(async (name: string, opts: LimitOptions & { config?: string; password?: string; domain?: string[]; anyDomain?: boolean; account: string; stream: string }) => {
      if (!isValidUserName(name)) throw new RelayError('ERR_USAGE', `invalid user name "${name}" (letters, digits, . _ @ + -)`);
      const defaultStream = streamArg(opts.stream);
      const account = accountArg(opts.account);
      const allowedDomains = (opts.domain ?? []).map(domainArg);
      const limits = mergeLimits({}, limitsFrom(opts));
      // check the account and domains before asking for a password
      await withStore(opts.config, async (store) => {
        await requireAccount(store, account);
        await checkDomainsBelong(store, account, allowedDomains);
      });
      const password = opts.password ?? (await readPassword());
      checkPassword(password);
      await withStore(opts.config, (store) => createSmtpUser(store, { name, password, now: Date.now(), allowedDomains, anyDomain: !!opts.anyDomain, account, limits, defaultStream }));
      const granted = allowedDomains.length || opts.anyDomain ? ` (may send as ${grantText({ allowedDomains, anyDomain: !!opts.anyDomain })})` : '';
      const where = account === DEFAULT_ACCOUNT && !hasAnyLimitOption(opts) ? '' : ` in account ${account} (limits: ${formatLimits(limits)})`;
      const stream = defaultStream === 'broadcast' ? '; its mail is broadcast unless it says X-Postlane-Stream: transactional' : '';
      process.stdout.write(`user ${name} added${granted}${where}${stream}\n`);
    });

  users.command('allow <name> [domains...]')
    .description('allow a user sender domains (MAIL FROM and From:, subdomains included), or --any; --revoke takes them back')
    .addOption(configOption())
    .option('--any', 'allow any domain (with --revoke: no longer any)')
    .option('--revoke', 'remove the named domains (or --any) instead of adding them')
    .action(async (name: string, domains: string[], opts: { config?: string; any?: boolean; revoke?: boolean }) => {
      const named = domains.map(domainArg);
      if (named.length === 0 && !opts.any) throw new RelayError('ERR_USAGE', 'name one or more domains, or --any');
      const grant = await withStore(opts.config, async (store) => {
        const user = await store.getUser(name);
        if (!user) throw new RelayError('ERR_NOT_FOUND', `user ${name} not found`);
        const next = {
          allowedDomains: opts.revoke ? user.allowedDomains.filter((d) => !named.includes(d)) : [...user.allowedDomains, ...named],
          anyDomain: opts.any ? !opts.revoke : user.anyDomain,
        };
        await changeSmtpUser(store, name, next);
        return next;
      });
      process.stdout.write(`user ${name} may send as ${grantText(grant)}\n`);
    });

  users.command('list')
    .description('list users with their account and own limits')
    .addOption(configOption())
    .option('--account <name>', 'only this account\'s users (default: every account)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { config?: string; json?: boolean; account?: string }) => {
      const account = opts.account === undefined ? undefined : accountArg(opts.account);
      const list = await withStore(opts.config, (store) => store.listUsers(account));
      if (opts.json) {
        process.stdout.write(JSON.stringify(list.map((u) => ({
          name: u.name, createdAt: new Date(u.createdAt).toISOString(), allowedDomains: u.allowedDomains, anyDomain: u.anyDomain,
          account: u.account, limits: u.limits, defaultStream: u.defaultStream,
        }))) + '\n');
      } else {
        for (const u of list) {
          process.stdout.write(`${u.name}\t${new Date(u.createdAt).toISOString()}\t${grantText(u)}\taccount ${u.account}\tlimits ${formatLimits(u.limits)}${u.defaultStream === 'broadcast' ? '\tstream broadcast' : ''}\n`);
        }
      }
    });

  addLimitOptions(users.command('limits <name>')
    .description('set the user\'s own limits (on top of its account\'s): the named windows change, none clears one')
    .addOption(configOption()), 'this user')
    .action(async (name: string, opts: LimitOptions & { config?: string }) => {
      const change = limitsFrom(opts);
      const { limits } = await withStore(opts.config, (store) => changeSmtpUser(store, name, { limits: change }));
      process.stdout.write(`user ${name} limits: ${formatLimits(limits)}\n`);
    });

  users.command('stream <name> <stream>')
    .description('the stream of the user\'s SMTP submissions that name none with X-Postlane-Stream (transactional or broadcast)')
    .addOption(configOption())
    .action(async (name: string, input: string, opts: { config?: string }) => {
      const stream = streamArg(input);
      await withStore(opts.config, (store) => changeSmtpUser(store, name, { defaultStream: stream }));
      process.stdout.write(`user ${name}: messages without X-Postlane-Stream are ${stream}\n`);
    });

  users.command('remove <name>')
    .description('remove a user')
    .addOption(configOption())
    .action(async (name: string, opts: { config?: string }) => {
      const removed = await withStore(opts.config, (store) => store.removeUser(name));
      if (!removed) throw new RelayError('ERR_NOT_FOUND', `user ${name} not found`);
      process.stdout.write(`user ${name} removed\n`);
    });
}
