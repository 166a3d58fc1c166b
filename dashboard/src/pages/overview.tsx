// Overview: sent/delivered/deferred/bounced/complained over time (GET /v1/stats by hour or day),
// the rates, the same by provider / domain / stream / tag, the queue's depth and oldest age (GET /v1/queue), and alerts (GET /v1/alerts).
import { useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { TimeChart, type Series } from '../chart.js';
import { useLoad } from '../data.js';
import { formatAge, formatRate } from '../format.js';
import { ErrorLine, Link, Loading, PageHeader } from '../ui.js';

type Counts = Record<string, number>;
interface Rates { delivery: number | null; bounce: number | null; complaint: number | null; open: number | null; click: number | null }
interface Group { key: string; counts: Counts; rates: Rates }
interface Stats { from: string; to: string; group_by: string; data: Group[]; total: Group }
interface QueueSummary { depth?: number; oldest_age_seconds?: number | null; oldest_queued_at?: string | null }
interface Alerts {
  breakers: { id: string; scope: string; scope_key: string; metric: string; rate: number; tripped_at: string; held: number }[];
  webhooks: { id: string; url: string; problem: 'disabled' | 'failing'; since: string | null; detail: string | null }[];
  domains: { name: string; problems: { purpose: string; name: string; status: string; fix: string | null }[] }[];
  certificate: { expires_at: string; days_left: number; subject: string } | null;
}
interface AlertLine { severity: 'critical' | 'warning'; title: string; text: string; href: string }

const SERIES: { name: string; label: string; color: string }[] = [
  { name: 'accepted', label: 'Sent', color: '#2457c5' },
  { name: 'delivered', label: 'Delivered', color: '#1f8a4c' },
  { name: 'deferred', label: 'Deferred', color: '#b7791f' },
  { name: 'bounced', label: 'Bounced', color: '#c53030' },
  { name: 'complained', label: 'Complained', color: '#805ad5' },
];

const WINDOWS = { '24h': { groupBy: 'hour', ms: 86_400_000, stepMs: 3_600_000 }, '30d': { groupBy: 'day', ms: 30 * 86_400_000, stepMs: 86_400_000 } } as const;
type WindowName = keyof typeof WINDOWS;

export function OverviewPage() {
  const [windowName, setWindowName] = useState<WindowName>('24h');
  const w = WINDOWS[windowName];
  const stats = useLoad(() => {
    const to = Math.ceil(Date.now() / w.stepMs) * w.stepMs;
    return api.get<Stats>('/v1/stats', { group_by: w.groupBy, from: new Date(to - w.ms).toISOString(), to: new Date(to).toISOString() });
  }, [windowName]);
  const queue = useLoad(() => api.get<QueueSummary>('/v1/queue'), []);
  const alerts = useLoad(() => api.get<Alerts>('/v1/alerts'), []);
  const chart = useMemo(() => (stats.data ? chartData(stats.data, w.stepMs) : null), [stats.data]);
  const total = stats.data?.total;
  return (
    <section>
      <PageHeader title="Overview">
        <label>Window{' '}
          <select value={windowName} onChange={(e) => setWindowName((e.currentTarget as HTMLSelectElement).value as WindowName)}>
            <option value="24h">Last 24 hours (hourly)</option>
            <option value="30d">Last 30 days (daily)</option>
          </select>
        </label>
        <button type="button" onClick={() => { stats.reload(); queue.reload(); alerts.reload(); }}>Refresh</button>
      </PageHeader>
      <ErrorLine error={stats.error} />
      <Loading when={stats.loading && !stats.data} />
      {total ? (
        <dl class="tiles" aria-label="Totals for the window">
          {SERIES.map((s) => <Tile key={s.name} label={s.label} value={String(total.counts[s.name] ?? 0)} testId={`total-${s.name}`} />)}
          <Tile label="Delivery rate" value={formatRate(total.rates.delivery)} />
          <Tile label="Bounce rate" value={formatRate(total.rates.bounce)} />
          <Tile label="Complaint rate" value={formatRate(total.rates.complaint)} />
          <Tile label="Open rate" value={formatRate(total.rates.open)} />
          <Tile label="Click rate" value={formatRate(total.rates.click)} />
        </dl>
      ) : null}
      {chart ? <TimeChart title={`Messages per ${w.groupBy}`} times={chart.times} series={chart.series} /> : null}
      <Breakdown windowMs={w.ms} stepMs={w.stepMs} />
      <h2>Queue</h2>
      {queue.data ? (
        <dl class="tiles">
          <Tile label="Queued recipients" value={String(queue.data.depth ?? '—')} testId="queue-depth" />
          <Tile label="Oldest queued" value={formatAge(oldestAge(queue.data))} />
        </dl>
      ) : <ErrorLine error={queue.error} />}
      <p><Link href="/queue">Queue details</Link></p>
      <h2>Alerts</h2>
      <ErrorLine error={alerts.error} />
      {alerts.data ? <AlertList lines={alertLines(alerts.data)} /> : null}
    </section>
  );
}

const BREAKDOWNS = { provider: 'Mailbox provider', domain: 'Recipient domain', stream: 'Stream', tag: 'Tag' } as const;
type BreakdownName = keyof typeof BREAKDOWNS;

/** The same window's counts and rates by provider, domain, stream or tag (GET /v1/stats?group_by=…). */
function Breakdown({ windowMs, stepMs }: { windowMs: number; stepMs: number }) {
  const [by, setBy] = useState<BreakdownName>('provider');
  const stats = useLoad(() => {
    const to = Math.ceil(Date.now() / stepMs) * stepMs;
    return api.get<Stats>('/v1/stats', { group_by: by, from: new Date(to - windowMs).toISOString(), to: new Date(to).toISOString() });
  }, [by, windowMs]);
  return (
    <>
      <div class="page-header">
        <h2>Breakdown</h2>
        <label>By{' '}
          <select value={by} onChange={(e) => setBy((e.currentTarget as HTMLSelectElement).value as BreakdownName)}>
            {Object.entries(BREAKDOWNS).map(([k, label]) => <option key={k} value={k}>{label}</option>)}
          </select>
        </label>
      </div>
      <ErrorLine error={stats.error} />
      {stats.data ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Counts and rates by {BREAKDOWNS[by].toLowerCase()}</caption>
            <thead><tr><th scope="col">{BREAKDOWNS[by]}</th>{SERIES.map((x) => <th scope="col" key={x.name}>{x.label}</th>)}<th scope="col">Delivery</th><th scope="col">Bounce</th><th scope="col">Complaint</th><th scope="col">Open</th><th scope="col">Click</th></tr></thead>
            <tbody>
              {stats.data.data.map((g) => (
                <tr key={g.key}>
                  <th scope="row">{g.key || '(none)'}</th>{SERIES.map((x) => <td key={x.name}>{g.counts[x.name] ?? 0}</td>)}
                  <td>{formatRate(g.rates.delivery)}</td><td>{formatRate(g.rates.bounce)}</td><td>{formatRate(g.rates.complaint)}</td><td>{formatRate(g.rates.open)}</td><td>{formatRate(g.rates.click)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {stats.data.data.length === 0 ? <p class="muted">Nothing sent in this window.</p> : null}
        </div>
      ) : null}
    </>
  );
}

function AlertList({ lines }: { lines: AlertLine[] }) {
  if (!lines.length) return <p class="muted">No alerts.</p>;
  return <ul class="alerts">{lines.map((a, i) => <li key={i} class={`alert alert-${a.severity}`}><strong>{a.title}</strong> {a.text} <Link href={a.href}>Details</Link></li>)}</ul>;
}

/** One line per thing that needs attention, most urgent kinds first. */
function alertLines(a: Alerts): AlertLine[] {
  return [
    ...a.breakers.map((b): AlertLine => ({ severity: 'critical', title: `Paused: ${b.scope} ${b.scope_key}`, text: `${b.metric} at ${formatRate(b.rate)} since ${new Date(b.tripped_at).toLocaleString()}; ${b.held} held.`, href: '/queue' })),
    ...(a.certificate ? [{ severity: 'critical' as const, title: 'TLS certificate expiring', text: `${a.certificate.subject}: ${a.certificate.days_left} day(s) left.`, href: '/' }] : []),
    ...a.webhooks.map((w): AlertLine => ({ severity: 'warning', title: `Webhook ${w.problem}`, text: `${w.url}${w.detail ? `: ${w.detail}` : ''}`, href: '/webhooks' })),
    ...a.domains.map((d): AlertLine => ({ severity: 'warning', title: `DNS of ${d.name}`, text: d.problems.map((p) => `${p.purpose} ${p.status}`).join(', '), href: '/domains' })),
  ];
}

function Tile({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return <div class="tile"><dt>{label}</dt><dd data-testid={testId}>{value}</dd></div>;
}

/** Every hour/day of the window (the API leaves out empty ones), as uPlot's seconds-since-epoch. */
function chartData(stats: Stats, stepMs: number): { times: number[]; series: Series[] } {
  const byTime = new Map(stats.data.map((g) => [Date.parse(g.key), g.counts]));
  const start = Math.floor(Date.parse(stats.from) / stepMs) * stepMs;
  const times: number[] = [];
  for (let t = start; t < Date.parse(stats.to); t += stepMs) times.push(t);
  return {
    times: times.map((t) => t / 1000),
    series: SERIES.map((s) => ({ label: s.label, color: s.color, values: times.map((t) => byTime.get(t)?.[s.name] ?? 0) })),
  };
}

function oldestAge(q: QueueSummary): number | null {
  if (typeof q.oldest_age_seconds === 'number') return q.oldest_age_seconds;
  return q.oldest_queued_at ? (Date.now() - Date.parse(q.oldest_queued_at)) / 1000 : null;
}
