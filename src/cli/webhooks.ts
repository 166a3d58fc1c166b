// `postlane webhooks add|list|remove|enable|attempts`: an account's webhook endpoints, for
// operators (the HTTP API offers the same under /v1/webhooks). The signing secret is generated
// here, printed once by `add`, and never shown again (list shows no secrets). A URL is shown as the
// API shows it (shownWebhookUrl: a query token or URL password as `redacted`): this output is pasted
// into tickets and terminals' scrollback, and the stored URL is the receiver's credential.
import type { Command } from 'commander';
import { RelayError } from '../errors.js';
import { newWebhook, privateDestinationProblem, shownWebhookUrl, webhookUrlProblem } from '../events/webhook-destination.js';
import { DEFAULT_ACCOUNT, EVENT_TYPES, type EventType, type Webhook, type WebhookAttempt } from '../store/platform-store.js';
import type { QueueStore } from '../store/store.js';
import { configOption, positiveLimit, withStore } from './admin-store.js';

interface Common { config?: string; account: string; json?: boolean }

const accountOption = (cmd: Command) =>
  cmd.addOption(configOption())
    .option('--account <name>', 'the owning account', DEFAULT_ACCOUNT)
    .option('--json', 'machine-readable output');

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Without the secret (it is shown once, at creation) and without the URL's credentials. */
const webhookView = (w: Webhook) => ({
  id: w.id, account: w.account, url: shownWebhookUrl(w.url), events: w.events, enabled: w.enabled, createdAt: iso(w.createdAt),
  disabledAt: iso(w.disabledAt), disabledReason: w.disabledReason,
});

export function parseWebhookUrl(value: string): string {
  let url: URL;
  try { url = new URL(value); } catch { throw new RelayError('ERR_USAGE', `invalid URL "${value}"`); }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RelayError('ERR_USAGE', `the webhook URL must be http(s): "${value}"`);
  return url.toString();
}

export function parseEventTypes(value: string | undefined): EventType[] {
  if (!value) return [];
  const types = [...new Set(value.split(',').map((t) => t.trim()).filter(Boolean))];
  const unknown = types.filter((t) => !EVENT_TYPES.includes(t as EventType));
  if (unknown.length) throw new RelayError('ERR_USAGE', `unknown event type ${unknown.join(', ')} (one of ${EVENT_TYPES.join(', ')})`);
  return types as EventType[];
}

async function requireAccount(store: QueueStore, account: string): Promise<void> {
  if (!(await store.getAccount(account))) throw new RelayError('ERR_NOT_FOUND', `account ${account} not found`);
}

async function requireWebhook(store: QueueStore, account: string, id: string): Promise<Webhook> {
  const w = await store.getWebhook(account, id);
  if (!w) throw new RelayError('ERR_NOT_FOUND', `webhook ${id} not found in account ${account}`);
  return w;
}

export function registerWebhookCommands(program: Command) {
  const webhooks = program.command('webhooks').description("manage an account's webhooks (signed event POSTs)");

  accountOption(webhooks.command('add')
    .description('add a webhook; prints its signing secret once')
    .requiredOption('--url <url>', 'required: the http(s) URL receiving POSTed event batches')
    .option('--events <types>', `comma-separated event types (default: all): ${EVENT_TYPES.join(',')}`))
    .action(async (opts: Common & { url: string; events?: string }) => {
      const w = newWebhook({ account: opts.account, url: parseWebhookUrl(opts.url), events: parseEventTypes(opts.events), now: Date.now() });
      const unusable = webhookUrlProblem(w.url);
      if (unusable) throw new RelayError('ERR_USAGE', unusable);
      await withStore(opts.config, async (store, config) => {
        const problem = config.webhooks.allowPrivateDestinations ? null : privateDestinationProblem(w.url);
        if (problem) throw new RelayError('ERR_WEBHOOK_DESTINATION', `${problem}: webhooks may only reach public addresses (see webhooks.allowPrivateDestinations)`);
        await requireAccount(store, opts.account);
        await store.addWebhook(w);
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify({ ...webhookView(w), secret: w.secret }) + '\n');
      } else {
        process.stdout.write(`webhook ${w.id} added for account ${w.account}: ${shownWebhookUrl(w.url)} (${w.events.length ? w.events.join(', ') : 'all events'})\n`);
        process.stdout.write(`signing secret (shown only now): ${w.secret}\n`);
      }
    });

  accountOption(webhooks.command('list').description("list the account's webhooks (secrets are not shown)"))
    .action(async (opts: Common) => {
      const list = await withStore(opts.config, async (store) => {
        await requireAccount(store, opts.account);
        return store.listWebhooks(opts.account);
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(list.map(webhookView)) + '\n');
        return;
      }
      for (const w of list) {
        const state = w.enabled ? 'enabled' : `disabled ${iso(w.disabledAt)}: ${w.disabledReason ?? ''}`;
        process.stdout.write(`${w.id}\t${shownWebhookUrl(w.url)}\t${w.events.length ? w.events.join(',') : 'all'}\t${state}\n`);
      }
    });

  accountOption(webhooks.command('remove <id>').description('remove a webhook (its pending deliveries are dropped)'))
    .action(async (id: string, opts: Common) => {
      const removed = await withStore(opts.config, (store) => store.removeWebhook(opts.account, id));
      if (!removed) throw new RelayError('ERR_NOT_FOUND', `webhook ${id} not found in account ${opts.account}`);
      process.stdout.write(`webhook ${id} removed\n`);
    });

  accountOption(webhooks.command('enable <id>').description('re-enable a webhook that was disabled after failing; its pending events are sent again'))
    .action(async (id: string, opts: Common) => {
      const w = await withStore(opts.config, async (store) => {
        await requireWebhook(store, opts.account, id);
        await store.setWebhookEnabled(opts.account, id, true, null, Date.now());
        return requireWebhook(store, opts.account, id);
      });
      if (opts.json) process.stdout.write(JSON.stringify(webhookView(w)) + '\n');
      else process.stdout.write(`webhook ${id} enabled\n`);
    });

  accountOption(webhooks.command('attempts <id>').description('recent delivery attempts of a webhook, newest first')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20))
    .action(async (id: string, opts: Common & { limit: number }) => {
      positiveLimit(opts.limit);
      const attempts = await withStore(opts.config, async (store) => {
        await requireWebhook(store, opts.account, id);
        return store.listWebhookAttempts(opts.account, id, Math.min(opts.limit, 1000));
      });
      const view = (a: WebhookAttempt) => ({ at: iso(a.at), ok: a.ok, status: a.status, error: a.error, durationMs: a.durationMs, eventIds: a.eventIds });
      if (opts.json) {
        process.stdout.write(JSON.stringify(attempts.map(view)) + '\n');
        return;
      }
      for (const a of attempts) {
        process.stdout.write(`${iso(a.at)}\t${a.ok ? 'ok' : 'failed'}\t${a.status ?? '-'}\t${a.durationMs}ms\t${a.eventIds.length} events\t${a.error ?? ''}\n`);
      }
    });
}
