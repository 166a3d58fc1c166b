// Queue: waiting recipients by state, the oldest one's age, and by destination domain (GET
// /v1/queue); the per-provider throttle state (GET /v1/queue/providers, when the relay has it).
// Bulk hold / release / retry / delete is on the Messages page (select rows, or filter by status).
import { api, ApiFailure } from '../api.js';
import { useLoad } from '../data.js';
import { formatAge } from '../format.js';
import { DataTable } from '../table.js';
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
          <DataTable caption="By destination domain (most waiting first)" showCaption empty="Nothing is waiting." rows={q.by_domain} rowKey={(d) => d.domain} columns={[
            { label: 'Domain', cell: (d) => d.domain },
            { label: 'Waiting', cell: (d) => d.recipients },
            { label: 'Deferred', cell: (d) => d.deferred },
            { label: 'Held', cell: (d) => d.held },
            { label: 'Oldest', cell: (d) => formatAge(d.oldest_age_seconds) },
          ]} />
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
  return <DataTable caption={caption} showCaption rows={rows} rowKey={(_, i) => i} columns={cols.map((c) => ({ label: c.replaceAll('_', ' '), cell: (r: Record<string, unknown>) => cell(r[c]) }))} />;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '—';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
