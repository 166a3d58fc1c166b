// `postlane breakers list|resume`: the circuit breakers (store/breaker-rules.ts) for operators. A
// tripped breaker holds its scope's broadcast mail (state 'held', never dropped) until it is
// resumed here or through POST /v1/breakers/{id}/resume; who resumed it and why are kept.
import type { Command } from 'commander';
import { RelayError } from '../errors.js';
import type { Breaker } from '../store/breaker-rules.js';
import { configOption, withStore } from './admin-store.js';

const out = (s = ''): void => { process.stdout.write(s + '\n'); };
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/** One line: why it tripped, and what it holds or who resumed it. */
export const describeBreaker = (b: Breaker): string =>
  `${b.id}\t${b.scope.type} ${b.scope.key}\t${b.metric.replace('_', ' ')} ${pct(b.rate)} (${b.count} of ${b.volume}; threshold ${pct(b.threshold)})`
  + `\ttripped ${new Date(b.trippedAt).toISOString()}`
  + (b.resumedAt === null ? `\tholding ${b.held} recipient(s)` : `\tresumed ${new Date(b.resumedAt).toISOString()} by ${b.resumedBy}: ${b.resumeReason}`);

/** The short reason an account or queue line shows: "paused: hard bounce 12.00 % (breaker 3)". */
export const pausedReason = (b: Breaker): string => `paused: ${b.scope.type} ${b.scope.key} ${b.metric.replace('_', ' ')} ${pct(b.rate)} (breaker ${b.id}, ${b.held} held)`;

export function registerBreakerCommands(program: Command) {
  const cmd = program.command('breakers').description('circuit breakers: scopes whose bounce/complaint/block rate paused their broadcast mail');

  cmd.command('list').description('open breakers (tab-separated: id, scope, rate, tripped, held); --all adds resumed ones')
    .addOption(configOption())
    .option('--all', 'resumed breakers too, with who resumed them and why')
    .option('--account <name>', 'only breakers of this account')
    .option('--limit <n>', 'at most this many (default 100, max 1000)', '100')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; all?: boolean; account?: string; limit: string; json?: boolean }) => {
      const found = await withStore(o.config, (s) => s.listBreakers({ ...(o.all ? {} : { open: true }), ...(o.account ? { account: o.account } : {}), limit: Number(o.limit) }));
      if (o.json) return out(JSON.stringify(found, null, 2));
      if (found.length === 0) return out(o.all ? 'no breakers have tripped' : 'no open breakers: nothing is paused');
      for (const b of found) out(describeBreaker(b));
    });

  cmd.command('resume <id>').description('resume a tripped breaker: the mail it held is due again')
    .addOption(configOption())
    .requiredOption('--by <name>', 'who resumes it (kept with the breaker and in the breaker.resumed event)')
    .requiredOption('--reason <text>', 'why (kept likewise)')
    .option('--json', 'machine-readable output')
    .action(async (idText: string, o: { config?: string; by: string; reason: string; json?: boolean }) => {
      if (!/^\d{1,15}$/.test(idText)) throw new RelayError('ERR_USAGE', `breaker id must be a number (postlane breakers list), got "${idText}"`);
      if (o.by.trim() === '' || o.reason.trim() === '') throw new RelayError('ERR_USAGE', '--by and --reason must not be empty');
      const id = Number(idText);
      const b = await withStore(o.config, async (s) => {
        const open = (await s.listBreakers({ open: true, limit: 1000 })).find((x) => x.id === id);
        const resumed = await s.resumeBreaker(id, o.by.trim(), o.reason.trim(), Date.now());
        return resumed && { ...resumed, held: open?.held ?? 0 };
      });
      if (!b) throw new RelayError('ERR_NOT_FOUND', `no open breaker ${id} (postlane breakers list --all shows resumed ones)`);
      if (o.json) return out(JSON.stringify(b));
      out(`breaker ${b.id} (${b.scope.type} ${b.scope.key}) resumed by ${b.resumedBy}; ${b.held} held recipient(s) are due again`);
    });
}
