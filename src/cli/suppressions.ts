// `postlane suppressions list|add|remove|import|export` and `postlane stats`: an account's
// suppression list and its delivery statistics, for operators (the HTTP API offers the same under
// /v1/suppressions and /v1/stats). Export and import are CSV (events/suppression-csv.ts).
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { RelayError } from '../errors.js';
import { formatSuppressionsCsv, parseSuppressionsCsv } from '../events/suppression-csv.js';
import { DEFAULT_ACCOUNT } from '../store/platform-store.js';
import type { QueueStore } from '../store/store.js';
import { SUPPRESSION_REASONS, SUPPRESSION_SCOPES, type Suppression, type SuppressionReason, type SuppressionScope } from '../store/suppression-store.js';
import { configOption, withStore } from './admin-store.js';

interface Common { config?: string; account: string; json?: boolean }

const withAccount = (cmd: Command) => cmd.addOption(configOption()).option('--account <name>', 'the owning account', DEFAULT_ACCOUNT);

function oneOf<T extends string>(what: string, allowed: readonly T[], value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new RelayError('ERR_USAGE', `${what} must be one of ${allowed.join(', ')}`);
  return value as T;
}

async function requireAccount(store: QueueStore, account: string): Promise<void> {
  if (!(await store.getAccount(account))) throw new RelayError('ERR_NOT_FOUND', `account ${account} not found`);
}

/** Every entry of the account, page by page. */
async function* allEntries(store: QueueStore, account: string): AsyncGenerator<Suppression> {
  let after: Suppression | undefined;
  for (;;) {
    const page = await store.listSuppressions({ account, limit: 1000, ...(after ? { after } : {}) });
    yield* page;
    if (page.length < 1000) return;
    after = page[page.length - 1];
  }
}

const line = (s: Suppression) => `${s.address}\t${s.scope}\t${s.reason}\t${new Date(s.createdAt).toISOString()}\t${s.detail ?? ''}`;

export function registerSuppressionCommands(program: Command) {
  const cmd = program.command('suppressions').description("an account's suppression list: addresses Postlane will not send to, and why");

  withAccount(cmd.command('list').description('entries in address order (tab-separated: address, scope, reason, since, detail)'))
    .option('--search <text>', 'addresses containing this text').option('--reason <reason>', SUPPRESSION_REASONS.join(', '))
    .option('--scope <scope>', SUPPRESSION_SCOPES.join(', ')).option('--limit <n>', 'at most this many (default 100, max 1000)', '100')
    .option('--json', 'machine-readable output')
    .action(async (o: Common & { search?: string; reason?: string; scope?: string; limit: string }) => {
      const reason = oneOf<SuppressionReason>('--reason', SUPPRESSION_REASONS, o.reason);
      const scope = oneOf<SuppressionScope>('--scope', SUPPRESSION_SCOPES, o.scope);
      await withStore(o.config, async (store) => {
        await requireAccount(store, o.account);
        const found = await store.listSuppressions({ account: o.account, search: o.search, reason, scope, limit: Number(o.limit) });
        if (o.json) console.log(JSON.stringify(found, null, 2));
        else if (found.length === 0) console.log(`no suppressed addresses in account ${o.account}${o.search || reason || scope ? ' match' : ''}`);
        else for (const s of found) console.log(line(s));
      });
    });

  withAccount(cmd.command('add').description('suppress addresses (reason "manual")').argument('<email...>'))
    .option('--scope <scope>', 'all (default) or broadcast', 'all').option('--note <text>', 'kept as the entry\'s detail')
    .action(async (emails: string[], o: Common & { scope: string; note?: string }) => {
      const scope = oneOf<SuppressionScope>('--scope', SUPPRESSION_SCOPES, o.scope)!;
      const bad = emails.filter((e) => !/^[^\s@]+@[^\s@]+$/.test(e));
      if (bad.length) throw new RelayError('ERR_USAGE', `not an email address: ${bad.join(', ')}`);
      await withStore(o.config, async (store) => {
        const now = Date.now();
        const added = await store.addSuppressions(emails.map((address) => ({
          account: o.account, address, scope, reason: 'manual', source: 'cli', messageId: null, detail: o.note ?? null, createdAt: now,
        })));
        console.log(`${added} added${added < emails.length ? `, ${emails.length - added} already suppressed` : ''}`);
      });
    });

  withAccount(cmd.command('remove').description('let mail reach an address again').argument('<email>'))
    .option('--scope <scope>', 'remove only this scope\'s entry (default: every entry of the address)')
    .action(async (email: string, o: Common & { scope?: string }) => {
      const scope = oneOf<SuppressionScope>('--scope', SUPPRESSION_SCOPES, o.scope);
      await withStore(o.config, async (store) => {
        const n = await store.removeSuppression(o.account, email, scope);
        if (n === 0) throw new RelayError('ERR_NOT_FOUND', `${email} is not suppressed in account ${o.account}`);
        console.log(`removed ${n} entr${n === 1 ? 'y' : 'ies'} for ${email}`);
      });
    });

  withAccount(cmd.command('export').description('the whole list as CSV (email,scope,reason,created_at,source,message_id,detail)'))
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (o: Common & { output?: string }) => {
      await withStore(o.config, async (store) => {
        await requireAccount(store, o.account);
        const entries: Suppression[] = [];
        for await (const s of allEntries(store, o.account)) entries.push(s);
        const csv = formatSuppressionsCsv(entries);
        if (o.output) { await fs.writeFile(o.output, csv); console.error(`${entries.length} entries written to ${o.output}`); } else process.stdout.write(csv);
      });
    });

  withAccount(cmd.command('import').description('add the addresses of a CSV file (- for stdin): a header with email (or address), and optionally scope, reason, detail; or one address per line')
    .argument('<file>'))
    .option('--replace', 'replace the entries of addresses already suppressed (default: keep them)')
    .action(async (file: string, o: Common & { replace?: boolean }) => {
      const text = file === '-' ? await readStdin() : await fs.readFile(file, 'utf8');
      const parsed = parseSuppressionsCsv(text);
      for (const e of parsed.errors) console.error(`line ${e.line}: ${e.message}`);
      await withStore(o.config, async (store) => {
        const now = Date.now();
        let added = 0;
        for (let i = 0; i < parsed.rows.length; i += 1000) {
          added += await store.addSuppressions(parsed.rows.slice(i, i + 1000).map((r) => ({
            account: o.account, address: r.email, scope: r.scope, reason: r.reason, source: 'import', messageId: null, detail: r.detail, createdAt: now,
          })), { replace: o.replace === true });
        }
        console.log(`${parsed.rows.length} read, ${added} ${o.replace ? 'added or replaced' : 'added'}, ${parsed.errors.length} refused`);
        if (parsed.errors.length > 0) process.exitCode = 1;
      });
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
