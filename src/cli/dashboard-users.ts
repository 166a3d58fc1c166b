// `postlane dashboard-users add|list|remove|passwd`: the web dashboard's users (issue 12), each an
// admin (every account) or a user of one account. Passwords come from a prompt (no echo) or, with
// --password-stdin, from the first line of stdin; they are hashed with scrypt as for SMTP users and
// never printed. A new password or removing a user ends the user's sessions at once.
import type { Command } from 'commander';
import { hashPassword, isValidUserName } from '../users/password.js';
import { RelayError } from '../errors.js';
import type { DashboardUser } from '../store/dashboard-store.js';
import { DEFAULT_ACCOUNT } from '../store/platform-store.js';
import { configOption, withStore } from './admin-store.js';
import { accountArg, requireAccount } from './accounts.js';
import { readPassword } from './users.js';

const MIN_PASSWORD = 10;

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** The new password, checked for length, hashed. */
async function newPasswordHash(fromStdin: boolean | undefined): Promise<string> {
  const password = fromStdin ? await readStdinLine() : await readPassword();
  if (password.length < MIN_PASSWORD) throw new RelayError('ERR_USAGE', `password too short (${MIN_PASSWORD} characters at least)`);
  return hashPassword(password);
}

function nameArg(name: string): string {
  if (!isValidUserName(name)) throw new RelayError('ERR_USAGE', `invalid user name "${name}" (letters, digits, . _ @ + -; at most 128)`);
  return name;
}

const describe = (u: Pick<DashboardUser, 'role' | 'account'>) => (u.role === 'admin' ? 'admin (every account)' : `account ${u.account}`);

export function registerDashboardUserCommands(program: Command) {
  const users = program.command('dashboard-users').description('manage the web dashboard\'s users (admins, or users of one account)');

  users.command('add <name>')
    .description('add a dashboard user: --admin, or --account NAME; the password comes from a prompt or --password-stdin')
    .addOption(configOption())
    .option('--account <name>', 'the account the user sees (and only that one)')
    .option('--admin', 'the user sees and manages every account')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .action(async (input: string, opts: { config?: string; account?: string; admin?: boolean; passwordStdin?: boolean }) => {
      const username = nameArg(input);
      if (Boolean(opts.admin) === (opts.account !== undefined)) throw new RelayError('ERR_USAGE', 'give exactly one of --admin or --account <name>');
      const account = opts.account === undefined ? null : accountArg(opts.account);
      // A user of the default account acts for it with every scope, and an admin of default is the
      // operator (accounts/operator.ts): every account's plans, usage, alerts and breakers. Not a
      // user who "sees only its account", so that is refused; the operator's users are --admin.
      if (account === DEFAULT_ACCOUNT) throw new RelayError('ERR_USAGE', `a user of the ${DEFAULT_ACCOUNT} account would be the operator (every account): use --admin`);
      await withStore(opts.config, async (store) => {
        if (account !== null) await requireAccount(store, account);
        if (await store.getDashboardUser(username)) throw new RelayError('ERR_USER_EXISTS', `dashboard user ${username} already exists`);
      });
      const passwordHash = await newPasswordHash(opts.passwordStdin);
      const now = Date.now();
      const user: DashboardUser = { username, passwordHash, role: account === null ? 'admin' : 'account', account, createdAt: now, updatedAt: now };
      const added = await withStore(opts.config, (store) => store.addDashboardUser(user));
      if (!added) throw new RelayError('ERR_USER_EXISTS', `dashboard user ${username} already exists`);
      process.stdout.write(`dashboard user ${username} added: ${describe(user)}\n`);
    });

  users.command('list')
    .description('list dashboard users with their role and account')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const list = await withStore(opts.config, (store) => store.listDashboardUsers());
      if (opts.json) {
        process.stdout.write(JSON.stringify(list.map((u) => ({
          username: u.username, role: u.role, account: u.account, createdAt: new Date(u.createdAt).toISOString(), updatedAt: new Date(u.updatedAt).toISOString(),
        }))) + '\n');
        return;
      }
      for (const u of list) process.stdout.write(`${u.username}\t${describe(u)}\tadded ${new Date(u.createdAt).toISOString()}\n`);
    });

  users.command('remove <name>')
    .description('remove a dashboard user and end its sessions')
    .addOption(configOption())
    .action(async (name: string, opts: { config?: string }) => {
      if (!(await withStore(opts.config, (store) => store.removeDashboardUser(name)))) throw new RelayError('ERR_NOT_FOUND', `dashboard user ${name} not found`);
      process.stdout.write(`dashboard user ${name} removed\n`);
    });

  users.command('passwd <name>')
    .description('set a dashboard user\'s password (prompt or --password-stdin) and end its sessions')
    .addOption(configOption())
    .option('--password-stdin', 'read the password from the first line of stdin')
    .action(async (name: string, opts: { config?: string; passwordStdin?: boolean }) => {
      const exists = await withStore(opts.config, (store) => store.getDashboardUser(name));
      if (!exists) throw new RelayError('ERR_NOT_FOUND', `dashboard user ${name} not found`);
      const passwordHash = await newPasswordHash(opts.passwordStdin);
      if (!(await withStore(opts.config, (store) => store.setDashboardPassword(name, passwordHash, Date.now())))) {
        throw new RelayError('ERR_NOT_FOUND', `dashboard user ${name} not found`);
      }
      process.stdout.write(`dashboard user ${name}: password changed, its sessions ended\n`);
    });
}
