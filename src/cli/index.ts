// The `postlane` command: start the relay and every admin task. A view over the stages; owns no state.
import { Command } from 'commander';
import { configOption } from './admin-store.js';
import { loadConfig } from '../config/load.js';
import { RelayError } from '../errors.js';
import { registerUserCommands } from './users.js';
import { registerQueueCommands } from './queue.js';
import { registerClusterCommands } from './cluster.js';
import { registerDomainCommands } from './domains.js';
import { registerAccountCommands } from './accounts.js';
import { registerKeyCommands } from './keys.js';
import { registerWebhookCommands } from './webhooks.js';
import { registerSuppressionCommands } from './suppressions.js';
import { registerStatsCommands } from './stats.js';

const program = new Command();
program
  .name('postlane')
  .description('Postlane: a self-hostable SMTP relay and email delivery platform')
  .version('0.1.0');

program.command('start')
  .description('start the relay: SMTP listeners, durable queue and delivery')
  .addOption(configOption())
  .action(async (opts: { config?: string }) => {
    const config = loadConfig({ file: opts.config });
    const { runRelay } = await import('../main.js');
    await runRelay(config);
  });

program.command('config')
  .description('validate the configuration and print the effective settings (secrets hidden)')
  .addOption(configOption())
  .action((opts: { config?: string }) => {
    const cfg = loadConfig({ file: opts.config });
    const shown = JSON.parse(JSON.stringify(cfg, (k, v) => {
      if ((k === 'pass' || k === 'password' || k === 'token') && typeof v === 'string') return '[redacted]';
      if (k === 'url' && typeof v === 'string') return v.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:[redacted]@');
      return v;
    }));
    process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
  });

registerUserCommands(program);
registerQueueCommands(program);
registerClusterCommands(program);
registerDomainCommands(program);
registerAccountCommands(program);
registerKeyCommands(program);
registerWebhookCommands(program);
registerSuppressionCommands(program);
registerStatsCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof RelayError) {
    process.stderr.write(`postlane: ${err.message}\n`);
    process.exit(err.code === 'ERR_NOT_FOUND' ? 3 : 2);
  }
  process.stderr.write(`postlane: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
