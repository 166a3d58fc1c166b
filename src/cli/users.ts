// `postlane users add|list|remove`: SMTP AUTH users. Passwords come from --password, a prompt
// (no echo) or stdin, are hashed with scrypt, and are never printed or logged.
import type { Command } from 'commander';
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { hashPassword, isValidUserName } from '../users/password.js';
import { RelayError } from '../errors.js';
import { configOption, withStore } from './admin-store.js';

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

export function registerUserCommands(program: Command) {
  const users = program.command('users').description('manage SMTP AUTH users');

  users.command('add <name>')
    .description('add a user; the password comes from --password, a prompt, or stdin')
    .addOption(configOption())
    .option('--password <password>', 'the password (visible in the process list: prefer the prompt or stdin)')
    .action(async (name: string, opts: { config?: string; password?: string }) => {
      if (!isValidUserName(name)) throw new RelayError('ERR_USAGE', `invalid user name "${name}" (letters, digits, . _ @ + -)`);
      const password = opts.password ?? (await readPassword());
      if (password.length < 8) throw new RelayError('ERR_USAGE', 'password too short (8 characters at least)');
      const passwordHash = await hashPassword(password);
      await withStore(opts.config, (store) => store.addUser({ name, passwordHash, createdAt: Date.now() }));
      process.stdout.write(`user ${name} added\n`);
    });

  users.command('list')
    .description('list users')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const list = await withStore(opts.config, (store) => store.listUsers());
      if (opts.json) {
        process.stdout.write(JSON.stringify(list.map((u) => ({ name: u.name, createdAt: new Date(u.createdAt).toISOString() }))) + '\n');
      } else {
        for (const u of list) process.stdout.write(`${u.name}\t${new Date(u.createdAt).toISOString()}\n`);
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
