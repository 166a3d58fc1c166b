// Queue: waiting recipients by state, the oldest one's age, and by destination domain (GET
// /v1/queue); the per-provider throttle state (GET /v1/queue/providers, when the relay has it).
// Bulk hold / release / retry / delete is on the Messages page (select rows, or filter by status).
import { api, ApiFailure } from '../api.js';
import { useLoad } from '../data.js';
import { formatAge } from '../format.js';
import { ErrorLine, Link, Loading, PageHeader } from '../ui.js';

interface Oldest { oldest_received_at: string | null; oldest_age_seconds: number | null }
interface DomainRow extends Oldest { domain: string; recipients: number; deferred: number; held: number }
interface Queue extends Oldest { depth: number; by_state: Record<'queued' | 'deferred' | 'delivering' | 'held', number>; by_domain: DomainRow[] }
type ProviderRow = Record<string, unknown>;

export function QueuePage() {
  const queue = useLoad(() => api.get<Queue>('/v1/queue', { domains: 100 }), []);
  const providers = useLoad(() => api.get<{ data: ProviderRow[] }>('/v1/queue/providers'), []);
  const q = queue.data;
  return (
    <section>
      <PageHeader title="Queue"><button type="button" onClick={() => { queue.reload(); providers.reload(); }}>Refresh</button></PageHeader>
      <ErrorLine error={queue.error} />
      <Loading when={queue.loading && !q} />
      {q ? (
        <>
          <dl class="tiles">
            <div class="tile"><dt>Waiting recipients</dt><dd>{q.depth}</dd></div>
            <div class="tile"><dt>Oldest</dt><dd>{formatAge(q.oldest_age_seconds)}</dd></div>
            {(['queued', 'deferred', 'delivering', 'held'] as const).map((s) => (
              <div class="tile" key={s}><dt><Link href={`/messages?status=${s}`}>{s}</Link></dt><dd>{q.by_state[s]}</dd></div>
            ))}
          </dl>
          <div class="table-wrap">
            <table>
              <caption>By destination domain (most waiting first)</caption>
              <thead><tr><th scope="col">Domain</th><th scope="col">Waiting</th><th scope="col">Deferred</th><th scope="col">Held</th><th scope="col">Oldest</th></tr></thead>
              <tbody>
                {q.by_domain.map((d) => (
                  <tr key={d.domain}><td>{d.domain}</td><td>{d.recipients}</td><td>{d.deferred}</td><td>{d.held}</td><td>{formatAge(d.oldest_age_seconds)}</td></tr>
                ))}
              </tbody>
            </table>
            {q.by_domain.length === 0 ? <p class="muted">Nothing is waiting.</p> : null}
          </div>
        </>
      ) : null}
      {/* The provider queue is the operator's (it spans accounts): an account's user is not shown an error for it. */}
      {providers.error instanceof ApiFailure && providers.error.status === 403 ? null : (
        <>
          <h2>Mailbox providers</h2>
          <ErrorLine error={providers.error} />
          {providers.data ? <GenericTable caption="Throttle state by provider" rows={providers.data.data} /> : null}
        </>
      )}
    </section>
  );
}

/** A table of flat objects whose fields this page does not know in advance (text only). */
export function GenericTable({ caption, rows }: { caption: string; rows: Record<string, unknown>[] }) {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))].slice(0, 8);
  if (!rows.length) return <p class="muted">Nothing to show.</p>;
  return (
    <div class="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead><tr>{cols.map((c) => <th scope="col" key={c}>{c.replaceAll('_', ' ')}</th>)}</tr></thead>
        <tbody>{rows.map((r, i) => <tr key={i}>{cols.map((c) => <td key={c}>{cell(r[c])}</td>)}</tr>)}</tbody>
      </table>
    </div>
  );
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '—';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
