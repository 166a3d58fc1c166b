// `postlane queue …`: the operator's mailq/postsuper. Reads and changes queue rows through the
// store; the running relay's scheduler notices changes at its next poll.
import { pausedReason } from './breakers.js';
import { Option, type Command } from 'commander';
import { RelayError, NotFoundError } from '../errors.js';
import type { MessageView, RecipientView } from '../store/store.js';
import { configOption, positiveLimit, withStore } from './admin-store.js';
import { formatProviders } from './queue-providers.js';

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

function printRecipients(rows: RecipientView[]) {
  const header = ['QUEUE ID', 'STATE', 'ATTEMPTS', 'NEXT TRY', 'SIZE', 'SENDER', 'RECIPIENT', 'LAST RESPONSE'];
  const lines = rows.map((r) => [r.messageId, r.state, String(r.attempts), iso(r.nextAttemptAt), String(r.size),
    r.mailFrom || '<>', r.address, (r.lastResponse ?? '').replace(/\s+/g, ' ').slice(0, 100)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  for (const l of [header, ...lines]) process.stdout.write(l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n');
  process.stdout.write(`-- ${rows.length} recipient(s)\n`);
}

function printMessage(m: MessageView) {
  const out = [
    `Queue ID:  ${m.id}`, `Sender:    ${m.mailFrom || '<>'}`, `Size:      ${m.size}`, `Received:  ${iso(m.receivedAt)}`,
    `Origin:    ${m.origin.listener} from ${m.origin.clientIp}${m.origin.user ? ` as ${m.origin.user}` : ''}`,
    `Route:     ${m.route}${m.isBounce ? ' (bounce)' : ''}`, 'Recipients:',
    ...m.recipients.map((r) => `  ${r.address}  ${r.state}  attempts=${r.attempts}  next=${iso(r.nextAttemptAt)}  last=${r.lastResponse ?? '-'}`),
    'Attempts:',
    ...m.attempts.map((a) => `  ${iso(a.at)}  ${a.address}  ${a.status}  ${a.host ?? '-'}${a.source ? ` via ${a.source}` : ''}  ${a.response}`),
  ];
  process.stdout.write(out.join('\n') + '\n');
}

/** What an empty listing means, and where to look instead. */
function nothingListed(opts: { all?: boolean; state?: string }): string {
  if (opts.state) return `no recipient is ${opts.state}`;
  if (opts.all) return 'the queue is empty: nothing pending, and no finished mail kept (storage.retainFinished)';
  return 'nothing is pending (delivered, bounced and expired mail: postlane queue list --all)';
}

async function requireCount(count: Promise<number>, id: string, verb: string) {
  const n = await count;
  if (n === 0) throw new NotFoundError(`message ${id} (or no recipient that can be ${verb})`);
  process.stdout.write(`${id}: ${n} recipient(s) ${verb}\n`);
}

export function registerQueueCommands(program: Command) {
  const queue = program.command('queue').description('inspect and manage the mail queue (like mailq/postsuper)');

  queue.command('list')
    .description('waiting recipients: state, attempts, next try, last response')
    .addOption(configOption())
    .option('--all', 'include delivered, bounced and expired recipients')
    .addOption(new Option('--state <state>', 'only this state').choices(['queued', 'deferred', 'delivering', 'held', 'delivered', 'bounced', 'expired']))
    .option('--json', 'one JSON array, machine-readable')
    .option('--limit <n>', 'at most this many recipients, oldest first (default 1000)', positiveLimit)
    .addOption(new Option('--by <group>', 'group waiting mail: per mailbox provider, with its shaping limits and suspension').choices(['provider']))
    .action(async (opts: { config?: string; all?: boolean; state?: string; json?: boolean; by?: string; limit?: number }) => {
      if (opts.by === 'provider') {
        const { listByProvider } = await import('../delivery/index.js'); // loaded by the commands that use it: see admin-store.ts
        const groups = await withStore(opts.config, (s, config) => listByProvider(s, config));
        process.stdout.write(opts.json ? JSON.stringify(groups) + '\n' : formatProviders(groups));
        return;
      }
      const rows = await withStore(opts.config, (s) => s.listRecipients({ includeFinal: !!opts.all, state: opts.state as never, limit: opts.limit }));
      if (opts.json) process.stdout.write(JSON.stringify(rows) + '\n');
      else if (rows.length === 0) process.stdout.write(nothingListed(opts) + '\n');
      else printRecipients(rows);
    });

  queue.command('show <id>')
    .description('one message: envelope, recipients and delivery history')
    .addOption(configOption())
    .option('--json', 'machine-readable')
    .action(async (id: string, opts: { config?: string; json?: boolean }) => {
      const m = await withStore(opts.config, (s) => s.getMessage(id));
      if (!m) throw new NotFoundError(`message ${id}`);
      if (opts.json) process.stdout.write(JSON.stringify(m) + '\n');
      else printMessage(m);
    });

  queue.command('retry [id]')
    .description('make the waiting recipients of a message (or --all) due now')
    .addOption(configOption())
    .option('--all', 'every waiting message')
    .action(async (id: string | undefined, opts: { config?: string; all?: boolean }) => {
      if (!id && !opts.all) throw new RelayError('ERR_USAGE', 'name a queue id or --all');
      const n = await withStore(opts.config, (s) => s.retry(opts.all ? null : id!, Date.now()));
      process.stdout.write(`${n} recipient(s) scheduled for immediate retry\n`);
    });

  queue.command('delete <id>')
    .description('delete a message and its recipients (no bounce is sent)')
    .addOption(configOption())
    .action(async (id: string, opts: { config?: string }) => {
      if (!(await withStore(opts.config, (s) => s.deleteMessage(id)))) throw new NotFoundError(`message ${id}`);
      process.stdout.write(`${id}: deleted\n`);
    });

  queue.command('hold <id>')
    .description('hold a message: it is kept but not delivered until released')
    .addOption(configOption())
    .action(async (id: string, opts: { config?: string }) => {
      await withStore(opts.config, (s) => requireCount(s.hold(id), id, 'held'));
    });

  queue.command('release <id>')
    .description('release a held message for delivery now')
    .addOption(configOption())
    .action(async (id: string, opts: { config?: string }) => {
      await withStore(opts.config, (s) => requireCount(s.release(id, Date.now()), id, 'released'));
    });

  queue.command('stats')
    .description('recipient counts by state')
    .addOption(configOption())
    .option('--json', 'machine-readable')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const [c, open] = await withStore(opts.config, (s) => Promise.all([s.counts(), s.listBreakers({ open: true, limit: 1000 })]));
      // Held recipients include those held by circuit breakers: each open breaker says why and how many.
      if (opts.json) return void process.stdout.write(JSON.stringify({ ...c, breakers: open }) + '\n');
      process.stdout.write(Object.entries(c).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n'
        + open.map((b) => `${pausedReason(b)}\n`).join(''));
    });
}
