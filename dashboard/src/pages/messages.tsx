// Messages: search by recipient, sender, subject, tag, status and time (GET /v1/messages, cursor paged,
// newest first); each row links to the message's timeline. The search lives in the URL. Selected
// rows can be held, released, retried or deleted together (POST /v1/messages/bulk).
import { useState } from 'preact/hooks';
import { api, type Page } from '../api.js';
import { usePaged } from '../data.js';
import { formatBytes, formatTime } from '../format.js';
import { navigate, useLocation } from '../router.js';
import { ListView } from '../table.js';
import { ConfirmButton, Link, Notice, PageHeader, StatusBadge } from '../ui.js';

interface Summary { id: string; from: string; received_at: string; size: number; stream: string; tags: string[]; subject?: string | null; recipients: { email: string; status: string }[] }

const STATUSES = ['queued', 'deferred', 'delivering', 'held', 'delivered', 'bounced', 'expired', 'suppressed'];
const FIELDS = ['recipient', 'from', 'subject', 'tag', 'status', 'since', 'until'] as const;
const isoOf = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function MessagesPage() {
  const { query } = useLocation();
  const filters = Object.fromEntries(FIELDS.map((f) => [f, query.get(f) ?? ''])) as Record<(typeof FIELDS)[number], string>;
  const key = FIELDS.map((f) => filters[f]).join('\n');
  const page = usePaged((cursor) => api.get<Page<Summary>>('/v1/messages', {
    ...filters, since: isoOf(filters.since), until: isoOf(filters.until), cursor, limit: 50,
  }), [key]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const toggle = (id: string) => setSelected((cur) => { const next = new Set(cur); if (!next.delete(id)) next.add(id); return next; });
  const bulk = (action: string) => async () => {
    setError(null);
    try {
      const r = await api.post<{ results: { status: string; recipients: number }[] }>('/v1/messages/bulk', { action, ids: [...selected] });
      const ok = r.results.filter((x) => x.status === 'ok');
      setNotice(`${action}: ${ok.length} of ${r.results.length} message(s), ${ok.reduce((n, x) => n + x.recipients, 0)} recipient(s).`);
      setSelected(new Set());
      page.reload();
    } catch (e) { setError(e as Error); }
  };
  const search = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const params = new URLSearchParams();
    for (const f of FIELDS) { const v = String(form.get(f) ?? '').trim(); if (v) params.set(f, v); }
    navigate(`/messages${params.size ? `?${params}` : ''}`);
  };
  return (
    <section>
      <PageHeader title="Messages" />
      <form class="filters" role="search" aria-label="Search messages" onSubmit={search}>
        <label>Recipient<input name="recipient" type="search" defaultValue={filters.recipient} /></label>
        <label>Sender<input name="from" type="search" defaultValue={filters.from} /></label>
        <label>Subject<input name="subject" type="search" maxLength={200} defaultValue={filters.subject} /></label>
        <label>Tag<input name="tag" defaultValue={filters.tag} /></label>
        <label>Status
          <select name="status" defaultValue={filters.status}>
            <option value="">Any</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>Since<input name="since" type="datetime-local" defaultValue={filters.since} /></label>
        <label>Until<input name="until" type="datetime-local" defaultValue={filters.until} /></label>
        <button type="submit" class="primary">Search</button>
      </form>
      <div class="actions" role="group" aria-label="Actions on the selected messages">
        <span class="muted">{selected.size} selected</span>
        <button type="button" disabled={!selected.size} onClick={bulk('hold')}>Hold</button>
        <button type="button" disabled={!selected.size} onClick={bulk('release')}>Release</button>
        <button type="button" disabled={!selected.size} onClick={bulk('retry')}>Retry now</button>
        {selected.size ? <ConfirmButton label="Delete" confirmLabel={`Delete ${selected.size} message(s)?`} danger onConfirm={bulk('delete')} /> : null}
      </div>
      <Notice text={notice} />
      <ListView list={page} error={error} caption="Messages, newest first" empty="No messages match." rowKey={(m) => m.id} columns={[
        { label: 'Select', hideLabel: true, cell: (m) => <input type="checkbox" checked={selected.has(m.id)} onChange={() => toggle(m.id)} aria-label={`Select message ${m.id}`} /> },
        { label: 'Received', cell: (m) => <Link href={`/messages/${encodeURIComponent(m.id)}`}>{formatTime(m.received_at)}</Link> },
        { label: 'From', cell: (m) => m.from || '<>' },
        { label: 'Subject', cell: (m) => m.subject ?? <span class="muted">—</span> },
        { label: 'Recipients', cell: (m) => m.recipients.map((r) => <div key={r.email}>{r.email} <StatusBadge status={r.status} /></div>) },
        { label: 'Stream', cell: (m) => <>{m.stream}{m.tags.length ? <div class="muted">{m.tags.join(', ')}</div> : null}</> },
        { label: 'Size', cell: (m) => formatBytes(m.size) },
      ]} />
    </section>
  );
}
