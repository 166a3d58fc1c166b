// Queue: depth, oldest queued age and the busiest destination domains (GET /v1/queue), the
// per-provider throttle state (GET /v1/queue/providers), and bulk hold / release / retry of the
// queued messages to one domain (POST /v1/queue/actions).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useLoad } from '../data.js';
import { formatAge } from '../format.js';
import { ConfirmButton, ErrorLine, Loading, Notice, PageHeader } from '../ui.js';

interface DomainRow { domain: string; count?: number; queued?: number; deferred?: number; held?: number; oldest_age_seconds?: number | null }
interface Queue { depth?: number; oldest_age_seconds?: number | null; by_domain?: DomainRow[] }
type ProviderRow = Record<string, unknown> & { provider?: string; name?: string };

export function QueuePage() {
  const queue = useLoad(() => api.get<Queue>('/v1/queue'), []);
  const providers = useLoad(() => api.get<{ data: ProviderRow[] }>('/v1/queue/providers'), []);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const bulk = (action: string, domain: string) => async () => {
    setError(null);
    try {
      const r = await api.post<{ affected?: number }>('/v1/queue/actions', { action, domain });
      setNotice(`${action}: ${r?.affected ?? 'done'} for ${domain}.`);
      queue.reload();
    } catch (e) { setError(e as Error); }
  };
  return (
    <section>
      <PageHeader title="Queue"><button type="button" onClick={() => { queue.reload(); providers.reload(); }}>Refresh</button></PageHeader>
      <Notice text={notice} />
      <ErrorLine error={error ?? queue.error} />
      <Loading when={queue.loading && !queue.data} />
      {queue.data ? (
        <>
          <p>Queued recipients: <strong>{queue.data.depth ?? '—'}</strong> · oldest: <strong>{formatAge(queue.data.oldest_age_seconds)}</strong></p>
          <div class="table-wrap">
            <table>
              <caption>By destination domain</caption>
              <thead><tr><th scope="col">Domain</th><th scope="col">Queued</th><th scope="col">Oldest</th><th scope="col">Bulk actions</th></tr></thead>
              <tbody>
                {(queue.data.by_domain ?? []).map((d) => (
                  <tr key={d.domain}>
                    <td>{d.domain}</td><td>{d.count ?? d.queued ?? '—'}</td><td>{formatAge(d.oldest_age_seconds)}</td>
                    <td class="row-actions">
                      <button type="button" onClick={bulk('hold', d.domain)} aria-label={`Hold all for ${d.domain}`}>Hold</button>
                      <button type="button" onClick={bulk('release', d.domain)} aria-label={`Release all for ${d.domain}`}>Release</button>
                      <ConfirmButton label={`Retry ${d.domain}`} confirmLabel={`Retry all for ${d.domain}?`} onConfirm={bulk('retry', d.domain)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
      <h2>Mailbox providers</h2>
      <ErrorLine error={providers.error} />
      {providers.data ? <GenericTable caption="Throttle state by provider" rows={providers.data.data} /> : null}
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
