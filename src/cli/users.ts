// `postlane users add|list|remove|allow`: SMTP AUTH users and the sender domains each may use.
// Passwords come from --password, a prompt (no echo) or stdin, are hashed with scrypt, and are
// never printed or logged.
import type { Command } from 'commander';
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { hashPassword, isValidUserName } from '../users/password.js';
import { RelayError } from '../errors.js';
import { configOption, withStore } from './admin-store.js';
import { domainArg } from './domains.js';
import type { UserDomainGrant } from '../queue/store.js';

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  let muted = false;
  const out = new Writable({ write: (chunk, _enc, cb) => { if (!muted) process.stderr.write(chunk); cb(); } });
  const rl = readline.createInterface({ input: process.stdin, output: out, terminal: true });
  const ask = (q: string) => new Promise<string>((resolve) => { muted = false; process.stderr.write(q); muted = true; rl.question('', resolve); });
  try {
    const first = await ask('Password: ');
    process.stderr.write('\n');
    const second = await ask('Repeat password: ');
    process.stderr.write('\n');
    if (first !== second) throw new RelayError('ERR_USAGE', 'passwords do not match');
    return first;
  } finally { rl.close(); }
}

const grantText = (g: UserDomainGrant) => (g.anyDomain ? 'any domain' : g.allowedDomains.length ? [...new Set(g.allowedDomains)].join(', ') : 'no domain');

export function registerUserCommands(program: Command) {
  const users = program.command('users').description('manage SMTP AUTH users');

  users.command('add <name>')
    .description('add a user; the password comes from --password, a prompt, or stdin')
    .addOption(configOption())
    .option('--password <password>', 'the password (visible in the process list: prefer the prompt or stdin)')
    .option('--domain <domain...>', 'sender domains the user may use (MAIL FROM and From:), subdomains included')
    .option('--any-domain', 'the user may send as any domain')
    .action(async (name: string, opts: { config?: string; password?: string; domain?: string[]; anyDomain?: boolean }) => {
      if (!isValidUserName(name)) throw new RelayError('ERR_USAGE', `invalid user name "${name}" (letters, digits, . _ @ + -)`);
      const allowedDomains = (opts.domain ?? []).map(domainArg);
      const password = opts.password ?? (await readPassword());
      if (password.length < 8) throw new RelayError('ERR_USAGE', 'password too short (8 characters at least)');
      const passwordHash = await hashPassword(password);
      await withStore(opts.config, (store) => store.addUser({ name, passwordHash, createdAt: Date.now(), allowedDomains, anyDomain: !!opts.anyDomain }));
      process.stdout.write(`user ${name} added${allowedDomains.length || opts.anyDomain ? ` (may send as ${grantText({ allowedDomains, anyDomain: !!opts.anyDomain })})` : ''}\n`);
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
        if (!(await store.setUserDomains(name, next))) throw new RelayError('ERR_NOT_FOUND', `user ${name} not found`);
        return next;
      });
      process.stdout.write(`user ${name} may send as ${grantText(grant)}\n`);
    });

  users.command('list')
    .description('list users')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const list = await withStore(opts.config, (store) => store.listUsers());
      if (opts.json) {
        process.stdout.write(JSON.stringify(list.map((u) => ({
          name: u.name, createdAt: new Date(u.createdAt).toISOString(), allowedDomains: u.allowedDomains, anyDomain: u.anyDomain,
        }))) + '\n');
      } else {
        for (const u of list) process.stdout.write(`${u.name}\t${new Date(u.createdAt).toISOString()}\t${grantText(u)}\n`);
      }
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
