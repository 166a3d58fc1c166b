// `postlane tls-reports`: the outbound TLS reports (RFC 8460) — `sent` lists each policy domain's
// daily report and its state (sent, skipped: no TLSRPT record, failed after retries, or claimed:
// being sent or waiting for a retry), `counts` the TLS session counters of one UTC day; `received`
// the reports other senders mailed to this relay (tlsrpt/received.ts).
import type { Command } from 'commander';
import { RelayError } from '../errors.js';
import { dayOf } from '../tlsrpt/outcomes.js';
import { configOption, positiveLimit, withStore } from './admin-store.js';
import { loadConfig } from '../config/load.js';

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function registerTlsReportCommands(program: Command) {
  const cmd = program.command('tls-reports').description('outbound SMTP TLS reports (RFC 8460): what was sent, and the session counters');
  cmd.command('sent').description('the daily reports per policy domain, newest day first, with their state')
    .addOption(configOption())
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; limit: string; json?: boolean }) => {
      const limit = positiveLimit(o.limit);
      await withStore(o.config, async (store) => {
        const rows = await store.listTlsReports(limit);
        if (o.json) console.log(JSON.stringify(rows.map((r) => ({ ...r, day: isoDay(r.day) })), null, 2));
        else if (rows.length === 0) console.log('no TLS reports yet');
        else console.log(table([['day', 'domain', 'state', 'attempts', 'detail'], ...rows.map((r) => [isoDay(r.day), r.domain, r.state, String(r.attempts), r.detail])]));
      });
    });
  cmd.command('counts').description('TLS session counters of one UTC day, per policy domain, policy type and result')
    .addOption(configOption())
    .option('--day <date>', 'the UTC day (YYYY-MM-DD); default today')
    .option('--domain <domain>', 'only this policy domain')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; day?: string; domain?: string; json?: boolean }) => {
      const t = o.day === undefined ? Date.now() : Date.parse(`${o.day}T00:00:00Z`);
      if (Number.isNaN(t) || (o.day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(o.day))) throw new RelayError('ERR_USAGE', '--day must be a date like 2026-12-01');
      const day = dayOf(t);
      await withStore(o.config, async (store) => {
        const rows = await store.readTlsOutcomes(day, o.domain?.toLowerCase());
        const out = rows.map((r) => ({ domain: r.domain, policyType: r.policyType, result: r.resultType, mx: r.mx, ip: r.ip, reason: r.reason, sessions: r.n }));
        if (o.json) console.log(JSON.stringify({ day: isoDay(day), counters: out }, null, 2));
        else if (out.length === 0) console.log(`no TLS sessions counted on ${isoDay(day)}`);
        else console.log(table([['domain', 'policy', 'result', 'mx', 'ip', 'reason', 'sessions'], ...out.map((r) => [r.domain, r.policyType, r.result, r.mx, r.ip, r.reason, String(r.sessions)])]));
      });
    });
  cmd.command('received').description('TLS reports other senders mailed to this relay (stored inbound mail), newest first')
    .addOption(configOption())
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'machine-readable output')
    .action(async (o: { config?: string; limit: string; json?: boolean }) => {
      const limit = positiveLimit(o.limit);
      const config = loadConfig({ file: o.config });
      const { readReceivedReports } = await import('../tlsrpt/received.js'); // mailparser: only this command needs it
      const reports = await readReceivedReports(config.dataDir, limit);
      if (o.json) { console.log(JSON.stringify(reports, null, 2)); return; }
      if (reports.length === 0) { console.log('no TLS reports received'); return; }
      const rows = reports.flatMap((r) => (r.policies && r.policies.length > 0 ? r.policies : [null]).map((p) => [
        r.id, r.organization ?? r.from ?? '?', (r.start ?? '').slice(0, 10), p ? `${p.type} ${p.domain}` : (r.reportDomain ?? '?'),
        p ? String(p.successful) : '', p ? String(p.failed) : '',
        p ? p.failures.map((f) => `${f.resultType}×${f.count}`).join(', ') : `unreadable: ${r.problem ?? '?'}`,
      ]));
      console.log(table([['id', 'from', 'day', 'policy', 'ok', 'failed', 'failures'], ...rows]));
    });
}
