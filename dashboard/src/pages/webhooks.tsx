// Webhooks: the account's endpoints, re-enabling a disabled one, each one's delivery history
// (GET /v1/webhooks/:id/attempts) and replaying the events of an attempt (POST /v1/webhooks/:id/replay).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useLoad } from '../data.js';
import { formatTime } from '../format.js';
import { ListView } from '../table.js';
import { ErrorLine, Loading, Notice, PageHeader } from '../ui.js';

interface Webhook { id: string; url: string; events: string[]; enabled: boolean; created_at: string; disabled_at: string | null; disabled_reason: string | null }
interface Attempt { at: string; ok: boolean; status: number | null; error: string | null; duration_ms: number; event_ids: string[] }

export function WebhooksPage() {
  const hooks = useLoad(() => api.get<{ data: Webhook[] }>('/v1/webhooks'), []);
  const [open, setOpen] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const enable = async (id: string) => {
    try { await api.post(`/v1/webhooks/${encodeURIComponent(id)}/enable`); setNotice('Webhook enabled.'); hooks.reload(); } catch (e) { setError(e as Error); }
  };
  return (
    <section>
      <PageHeader title="Webhooks" />
      <Notice text={notice} />
      <ErrorLine error={error ?? hooks.error} />
      <Loading when={hooks.loading && !hooks.data} />
      {hooks.data?.data.length === 0 ? <p class="muted">No webhooks. Create one with <code>POST /v1/webhooks</code>.</p> : null}
      {hooks.data?.data.map((w) => (
        <article key={w.id} class="card">
          <h2><code>{w.url}</code></h2>
          <p>{w.enabled ? 'Enabled' : `Disabled ${formatTime(w.disabled_at)}: ${w.disabled_reason ?? ''}`} · events: {w.events.length ? w.events.join(', ') : 'all'} · <code>{w.id}</code></p>
          {!w.enabled ? <button type="button" onClick={() => enable(w.id)}>Enable</button> : null}
          <button type="button" aria-expanded={open === w.id} onClick={() => setOpen(open === w.id ? null : w.id)}>{open === w.id ? 'Hide' : 'Show'} deliveries</button>
          {open === w.id ? <Deliveries id={w.id} onNotice={setNotice} onError={setError} /> : null}
        </article>
      ))}
    </section>
  );
}

function Deliveries({ id, onNotice, onError }: { id: string; onNotice: (s: string) => void; onError: (e: Error) => void }) {
  const attempts = useLoad(() => api.get<{ data: Attempt[] }>(`/v1/webhooks/${encodeURIComponent(id)}/attempts`, { limit: 100 }), [id]);
  const replay = async (a: Attempt) => {
    try { onNotice(`Replay: ${(await api.post<{ queued: number }>(`/v1/webhooks/${encodeURIComponent(id)}/replay`, { event_ids: a.event_ids })).queued} event(s) queued.`); } catch (e) { onError(e as Error); }
  };
  const replaySince = async (e: Event) => {
    e.preventDefault();
    const since = String(new FormData(e.currentTarget as HTMLFormElement).get('since') ?? '');
    if (!since) return;
    try {
      const r = await api.post<{ queued: number }>(`/v1/webhooks/${encodeURIComponent(id)}/replay`, { since: new Date(since).toISOString() });
      onNotice(`Replay: ${r.queued} event(s) queued.`);
    } catch (err) { onError(err as Error); }
  };
  return (
    <div>
      <form class="filters" aria-label={`Replay events to ${id} since a time`} onSubmit={replaySince}>
        <label>Replay every event since<input name="since" type="datetime-local" required /></label>
        <button type="submit">Replay</button>
      </form>
      <ListView list={attempts} caption="Recent deliveries, newest first" showCaption empty="No deliveries yet." rowKey={(_, i) => i} columns={[
        { label: 'When', cell: (a) => formatTime(a.at) },
        { label: 'Result', cell: (a) => (a.ok ? `OK ${a.status ?? ''}` : `Failed ${a.status ?? ''} ${a.error ?? ''}`) },
        { label: 'Duration', cell: (a) => `${a.duration_ms} ms` },
        { label: 'Events', cell: (a) => a.event_ids.length },
        { label: 'Actions', hideLabel: true, cell: (a) => <button type="button" onClick={() => replay(a)} aria-label={`Replay the ${a.event_ids.length} event(s) of ${formatTime(a.at)}`}>Replay</button> },
      ]} />
    </div>
  );
}
