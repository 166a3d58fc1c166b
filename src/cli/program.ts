// Builds the `postlane` command tree: global options (--config, --debug), `start`, `config`,
// every admin command group and `sim` (the mailbox-provider simulator). A view over the stages;
// owns no state. index.ts runs it.
import { Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import { formatConfig } from '../config/print.js';
import { configOption } from './admin-store.js';
import { registerUserCommands } from './users.js';
import { registerDashboardUserCommands } from './dashboard-users.js';
import { registerQueueCommands } from './queue.js';
import { registerClusterCommands } from './cluster.js';
import { registerDomainCommands } from './domains.js';
import { registerAccountCommands } from './accounts.js';
import { registerKeyCommands } from './keys.js';
import { registerWebhookCommands } from './webhooks.js';
import { registerSuppressionCommands } from './suppressions.js';
import { registerStatsCommands } from './stats.js';
import { registerBreakerCommands } from './breakers.js';
import { registerSourceCommands } from './sources.js';
import { registerTlsReportCommands } from './tls-reports.js';
import { registerVerifyCommand } from './verify.js';
import { registerSecretCommands } from './secrets.js';
import { registerStartCommand } from './start.js';
import { registerSimCommand } from './sim.js';
import { VERSION } from './version.js';

function registerConfigCommand(program: Command) {
  program.command('config')
    .description('validate the configuration (every problem is listed) and print the effective settings, secrets hidden')
    .addOption(configOption())
    .option('--json', 'print JSON instead of YAML')
    .action((opts: { config?: string; json?: boolean }) => {
      const cfg = loadConfig({ file: opts.config });
      const source = opts.config ?? process.env.POSTLANE_CONFIG ?? 'postlane.yaml (if present)';
      process.stdout.write(formatConfig(cfg, opts.json ? 'json' : 'yaml', source));
    });
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('postlane')
    .description('Postlane: a self-hostable SMTP relay and email delivery platform')
    .version(VERSION)
    // Accepted before the command too (`postlane --config FILE users list`); see the hook below.
    .addOption(configOption())
    .addOption(new Option('--debug', 'print stack traces of errors (also POSTLANE_DEBUG=1)'));

  // A --config given to the program (before or after the command) is the command's own --config.
  program.hook('preAction', (_program, action) => {
    const global = program.opts<{ config?: string }>().config;
    if (global !== undefined && action !== program && action.getOptionValue('config') === undefined) action.setOptionValue('config', global);
  });

  registerStartCommand(program);
  registerConfigCommand(program);
  registerUserCommands(program);
  registerDashboardUserCommands(program);
  registerQueueCommands(program);
  registerClusterCommands(program);
  registerDomainCommands(program);
  registerAccountCommands(program);
  registerKeyCommands(program);
  registerWebhookCommands(program);
  registerSuppressionCommands(program);
  registerStatsCommands(program);
  registerBreakerCommands(program);
  registerSourceCommands(program);
  registerTlsReportCommands(program);
  registerVerifyCommand(program);
  registerSecretCommands(program);
  registerSimCommand(program);
  return program;
}
