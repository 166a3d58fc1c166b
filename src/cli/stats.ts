// `postlane stats`: delivery statistics of an account (or every account) over a window, from the
// store's pre-aggregated counters, as a table or JSON (the shape of GET /v1/stats).
import type { Command } from 'commander';
import { RelayError } from '../errors.js';
import { byProvider, statsReport, type StatsGroupReport } from '../events/stats-report.js';
import { parseDurationMs } from '../config/units.js';
import { DEFAULT_ACCOUNT } from '../store/platform-store.js';
import { STATS_GROUPS, statsProblem, type StatsGroup } from '../store/stats-store.js';
import { configOption, withStore } from './admin-store.js';

const GROUPS = [...STATS_GROUPS, 'provider'] as const;

function time(what: string, value: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new RelayError('ERR_USAGE', `${what} must be an ISO 8601 date or date-time, like 2026-12-01 or 2026-12-01T10:00:00Z`);
  return t;
}

const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
const COLUMNS: [string, (g: StatsGroupReport) => string][] = [
  ['accepted', (g) => String(g.counts.accepted)], ['delivered', (g) => String(g.counts.delivered)], ['deferred', (g) => String(g.counts.deferred)],
  ['bounced h/s/b', (g) => `${g.counts.bounced_hard}/${g.counts.bounced_soft}/${g.counts.bounced_block}`], ['failed', (g) => String(g.counts.failed)],
  ['suppressed', (g) => String(g.counts.suppressed)], ['complained', (g) => String(g.counts.complained)], ['unsub', (g) => String(g.counts.unsubscribed)],
  ['opens u/all', (g) => `${g.counts.opened_unique}/${g.counts.opened}`], ['clicks u/all', (g) => `${g.counts.clicked_unique}/${g.counts.clicked}`],
  ['delivery', (g) => pct(g.rates.delivery)], ['bounce', (g) => pct(g.rates.bounce)], ['complaint', (g) => pct(g.rates.complaint)],
];

function table(groups: StatsGroupReport[], total: StatsGroupReport, keyTitle: string): string {
  const rows = [[keyTitle, ...COLUMNS.map(([t]) => t)], ...groups.map((g) => [g.key, ...COLUMNS.map(([, f]) => f(g))]), ['total', ...COLUMNS.map(([, f]) => f(total))]];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

export function registerStatsCommands(program: Command) {
  program.command('stats').description('delivery statistics: counts and rates over a window (default: the last 7 days, by day)')
    .addOption(configOption())
    .option('--account <name>', 'the account, or * for every account', DEFAULT_ACCOUNT)
    .option('--since <duration>', 'window length ending now, like 24h or 30d', '7d')
    .option('--from <date>', 'window start (ISO 8601); overrides --since').option('--to <date>', 'window end, exclusive (ISO 8601; default now)')
    .option('--by <group>', `${GROUPS.join(', ')}`, 'day')
    .option('--stream <stream>', 'transactional or broadcast').option('--tag <tag>', 'only messages with this tag').option('--domain <domain>', 'only this recipient domain')
    .option('--json', 'machine-readable output (the shape of GET /v1/stats)')
    .action(async (o: { config?: string; account: string; since: string; from?: string; to?: string; by: string; stream?: string; tag?: string; domain?: string; json?: boolean }) => {
      if (!(GROUPS as readonly string[]).includes(o.by)) throw new RelayError('ERR_USAGE', `--by must be one of ${GROUPS.join(', ')}`);
      if (o.stream !== undefined && o.stream !== 'transactional' && o.stream !== 'broadcast') throw new RelayError('ERR_USAGE', '--stream must be transactional or broadcast');
      const to = o.to ? time('--to', o.to) : Date.now();
      const since = parseDurationMs(o.since);
      if (since === null) throw new RelayError('ERR_USAGE', '--since must be a duration like 24h or 30d');
      const from = o.from ? time('--from', o.from) : to - since;
      const account = o.account === '*' ? null : o.account;
      const problem = statsProblem({ groupBy: o.by === 'provider' ? 'domain' : o.by as StatsGroup, tag: o.tag, domain: o.domain });
      if (problem) throw new RelayError('ERR_USAGE', problem);
      if (o.by === 'account' && account !== null) throw new RelayError('ERR_USAGE', '--by account needs --account "*"');
      await withStore(o.config, async (store) => {
        if (account !== null && !(await store.getAccount(account))) throw new RelayError('ERR_NOT_FOUND', `account ${account} not found`);
        const by = o.by as StatsGroup | 'provider';
        const rows = await store.readStats({ account, from, to, groupBy: by === 'provider' ? 'domain' : by, stream: o.stream, tag: o.tag, domain: o.domain });
        const report = statsReport(by === 'provider' ? byProvider(rows) : rows);
        const timeKey = by === 'hour' || by === 'day';
        const groups = report.groups.map((g) => ({ ...g, key: timeKey ? new Date(Number(g.key)).toISOString().slice(0, by === 'day' ? 10 : 16) : g.key }));
        if (o.json) console.log(JSON.stringify({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), group_by: by, data: groups, total: report.total }, null, 2));
        else if (report.total.counts.accepted + report.total.counts.delivered === 0 && groups.length === 0) console.log('no mail in this window');
        else console.log(table(groups, report.total, by));
      });
    });
}
