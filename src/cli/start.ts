// `postlane start` and what the person who ran it sees: on a terminal, readable log lines
// (tty-log.ts) and, once every listener is up, a short banner — version, addresses, data
// directory, warnings, the next step. Anywhere else (a file, a pipe, journald) only the JSON log
// lines, one event per line. A listener that cannot bind is named by its config key.
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { hostnameProblem } from '../config/hostname.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../events/log.js';
import { configOption } from './admin-store.js';
import type { SystemError } from './failure.js';
import { ttyLogDestination } from './tty-log.js';
import { VERSION } from './version.js';

const ROLES: Record<string, string> = {
  submission: 'SMTP submission: STARTTLS, then AUTH',
  submissions: 'SMTP submission over TLS, AUTH',
  alt: 'SMTP submission (alternative port)',
  mx: 'inbound mail for local domains only',
  http: 'HTTP API /v1, /openapi.json, /healthz, /readyz',
  metrics: 'Prometheus /metrics, /healthz, /readyz',
};

/** The config key of the listener a failed bind was for (smtp.mx.port, http.host…), by port, else by address. */
export function listenerKeyOf(err: SystemError, config: Readonly<Config>): string | null {
  const all: [string, false | { host: string; port: number }][] = [
    ...(['submission', 'submissions', 'alt', 'mx'] as const).map((name): [string, false | { host: string; port: number }] => [`smtp.${name}`, config.smtp[name]]),
    ['http', config.http],
  ];
  const listeners = all.filter((l): l is [string, { host: string; port: number }] => l[1] !== false);
  if (err.port !== undefined) {
    const found = listeners.find(([, l]) => l.port === err.port);
    return found ? `${found[0]}.port` : null;
  }
  const found = err.address === undefined ? undefined : listeners.find(([, l]) => l.host === err.address);
  return found ? `${found[0]}.host` : null;
}

export interface BannerInput {
  config: Readonly<Config>;
  addresses: Record<string, { host: string; port: number }>;
  /** The --config given on the command line (repeated in the hint), if any. */
  configFile?: string;
  hasUsers: boolean;
}

export function formatBanner({ config, addresses, configFile, hasUsers }: BannerInput): string {
  const lines = [`Postlane ${VERSION} is running as ${config.hostname}`];
  for (const [name, a] of Object.entries(addresses)) {
    const where = name === 'http' ? `${config.http !== false && config.http.tls ? 'https' : 'http'}://${a.host}:${a.port}` : `${a.host}:${a.port}`;
    const role = name === 'http' && config.http !== false && config.http.dashboard ? `${ROLES.http}; dashboard at / (a browser)` : ROLES[name] ?? '';
    lines.push(`  ${name.padEnd(12)} ${where.padEnd(24)} ${role}`.trimEnd());
  }
  lines.push(`  ${'data'.padEnd(12)} ${config.dataDir}`);
  const problem = hostnameProblem(config.hostname);
  if (problem) lines.push(`warning: ${problem}`);
  const withConfig = configFile ? ` --config ${configFile}` : '';
  lines.push(hasUsers
    ? `Next: npx postlane${withConfig} queue list   (npx postlane --help lists every command)`
    : `Next: add a user: npx postlane users add NAME --domain example.com${withConfig}`);
  lines.push('Logs follow; Ctrl-C stops the relay.');
  return lines.join('\n') + '\n';
}

export function registerStartCommand(program: Command) {
  program.command('start')
    .description('start the relay: SMTP listeners, HTTP API, durable queue and delivery')
    .addOption(configOption())
    .action(async (opts: { config?: string }) => {
      const config = loadConfig({ file: opts.config });
      const tty = process.stdout.isTTY === true;
      const logger = createLogger(config.log.level, tty ? ttyLogDestination(process.stdout) as never : undefined);
      const { runRelay } = await import('../main.js');
      const relay = await runRelay(config, logger).catch((err: unknown) => {
        const key = err && typeof err === 'object' ? listenerKeyOf(err as SystemError, config) : null;
        if (key) (err as SystemError).configKey = key;
        throw err;
      });
      if (!tty) return;
      const hasUsers = await relay.store.listUsers().then((u) => u.length > 0, () => true);
      process.stdout.write(formatBanner({ config, addresses: relay.addresses, configFile: opts.config, hasUsers }));
    });
}
