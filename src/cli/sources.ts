// `postlane sources list|add|drain|pause|resume|check`: the egress sources (delivery/egress.ts) for
// operators. Changes are stored, so every node sees them within egress.refreshInterval: drain
// (no new mail; going away) and pause (no new mail for now) let in-flight deliveries finish.
// `check` verifies each source's PTR and forward-confirmed reverse DNS: a table, exit code 4 on a mismatch.
import type { Command } from 'commander';
import type { SourceView } from '../delivery/index.js';
import { RelayError } from '../errors.js';
import type { SourceState } from '../store/source-store.js';
import { configOption, withStore } from './admin-store.js';

const out = (s = ''): void => { process.stdout.write(s + '\n'); };
/** The delivery stage, loaded by the command that runs (it brings mailauth and nodemailer: see admin-store.ts). */
const delivery = () => import('../delivery/index.js');
const EXIT_CHECK_FAILED = 4;

/** One line: name, address, EHLO, pool, state, warmup (day and cap) and today's counts. */
export const describeSource = (s: SourceView): string => {
  const warm = !s.warmup ? 'warm'
    : s.warmup.cap === null ? `warm (warmup ${s.warmup.schedule} done)`
      : `warmup ${s.warmup.schedule} day ${s.warmup.day}: ${s.warmup.cap}/provider/day`;
  const today = Object.entries(s.today).map(([p, n]) => `${p} ${n}`).join(', ');
  return [s.name, s.address ?? '(system)', s.ehlo, s.pool, s.state, warm, today ? `today: ${today}` : ''].join('\t').trimEnd();
};

function stateCommand(cmd: Command, verb: string, state: SourceState, what: string) {
  cmd.command(`${verb} <name>`).description(what)
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { config?: string; json?: boolean }) => {
      const { setSourceState } = await delivery();
      const s = await withStore(o.config, (store, config) => setSourceState(config, store, name, state, Date.now()));
      if (o.json) return out(JSON.stringify(s));
      out(`source ${s.name} is ${state}${state === 'active' ? '' : '; deliveries in flight finish, no new mail goes through it'} (every node within egress.refreshInterval)`);
    });
}

export function registerSourceCommands(program: Command) {
  const cmd = program.command('sources').description('egress sources: local addresses mail is sent from, their pools, warmup and live state');

  cmd.command('list').description('every source (tab-separated: name, address, EHLO name, pool, state, warmup, today\'s counts per provider)')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; json?: boolean }) => {
      const { listSourceViews } = await delivery();
      const views = await withStore(o.config, (store, config) => listSourceViews(config, store, Date.now()));
      if (o.json) return out(JSON.stringify(views, null, 2));
      for (const v of views) out(describeSource(v));
    });

  cmd.command('add <name>').description('add a source at run time (stored: every node uses it once it can bind its address)')
    .addOption(configOption())
    .requiredOption('--address <ip>', 'local IPv4/IPv6 address to bind (must be an address of this machine, unless --force)')
    .requiredOption('--ehlo <host>', 'EHLO name (its PTR should name it: postlane sources check)')
    .option('--pool <name>', 'its pool (default: egress.defaultPool)')
    .option('--warmup-start <day>', 'warm it up from this UTC day (YYYY-MM-DD, day 1); absent: warm')
    .option('--warmup-schedule <name>', 'the warmup schedule ("stock" or one of egress.warmupSchedules)', 'stock')
    .option('--force', 'add it even though this machine cannot bind the address (another node has it)')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { config?: string; address: string; ehlo: string; pool?: string; warmupStart?: string; warmupSchedule: string; force?: boolean; json?: boolean }) => {
      const { addSource } = await delivery();
      const v = await withStore(o.config, (store, config) => addSource(config, store, {
        name, address: o.address, ehlo: o.ehlo, ...(o.pool ? { pool: o.pool } : {}),
        warmup: o.warmupStart ? { schedule: o.warmupSchedule, start: o.warmupStart } : null,
      }, { force: o.force === true, now: Date.now() }));
      if (o.json) return out(JSON.stringify(v));
      out(`source ${v.name} added: ${describeSource(v)}`);
    });

  stateCommand(cmd, 'drain', 'draining', 'stop sending new mail through a source that is going away (in-flight deliveries finish)');
  stateCommand(cmd, 'pause', 'paused', 'stop sending new mail through a source for now');
  stateCommand(cmd, 'resume', 'active', 'send through a drained or paused source again');

  cmd.command('check').description('PTR and forward-confirmed reverse DNS of each source\'s EHLO name (exit code 4 when one does not match)')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; json?: boolean }) => {
      const { listSourceViews, createSourceDns, checkPtr } = await delivery();
      const { views, dns } = await withStore(o.config, async (store, config) => ({ views: await listSourceViews(config, store, Date.now()), dns: createSourceDns(config.dns) }));
      const bound = views.filter((v): v is SourceView & { address: string } => v.address !== null);
      if (bound.length === 0) throw new RelayError('ERR_USAGE', 'no egress sources: mail goes from the system\'s address (configure egress.sources)');
      const results = await Promise.all(bound.map((v) => checkPtr(dns, { name: v.name, address: v.address, ehlo: v.ehlo })));
      if (o.json) out(JSON.stringify(results, null, 2));
      else for (const r of results) out([r.source, r.address, r.ehlo, r.ok ? 'ok' : `FAIL: ${r.problem}`].join('\t'));
      if (results.some((r) => !r.ok)) process.exitCode = EXIT_CHECK_FAILED;
    });
}
