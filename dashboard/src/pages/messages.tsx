// Messages: search by recipient, sender, tag, status and time (GET /v1/messages, cursor paged,
// newest first); each row links to the message's timeline. The search lives in the URL.
import { api, type Page } from '../api.js';
import { usePaged } from '../data.js';
import { formatBytes, formatTime } from '../format.js';
import { navigate, useLocation } from '../router.js';
import { ErrorLine, Link, Loading, PageHeader, Pager, StatusBadge } from '../ui.js';

interface Summary { id: string; from: string; received_at: string; size: number; stream: string; tags: string[]; recipients: { email: string; status: string }[] }

const STATUSES = ['queued', 'deferred', 'delivering', 'held', 'delivered', 'bounced', 'expired', 'suppressed'];
const FIELDS = ['recipient', 'from', 'tag', 'status', 'since'] as const;

export function MessagesPage() {
  const { query } = useLocation();
  const filters = Object.fromEntries(FIELDS.map((f) => [f, query.get(f) ?? ''])) as Record<(typeof FIELDS)[number], string>;
  const key = FIELDS.map((f) => filters[f]).join('\n');
  const page = usePaged((cursor) => api.get<Page<Summary>>('/v1/messages', {
    ...filters, since: filters.since ? new Date(filters.since).toISOString() : undefined, cursor, limit: 50,
  }), [key]);
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
        <label>Tag<input name="tag" defaultValue={filters.tag} /></label>
        <label>Status
          <select name="status" defaultValue={filters.status}>
            <option value="">Any</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>Since<input name="since" type="datetime-local" defaultValue={filters.since} /></label>
        <button type="submit" class="primary">Search</button>
      </form>
      <ErrorLine error={page.error} />
      <Loading when={page.loading} />
      {page.data ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Messages, newest first</caption>
            <thead><tr><th scope="col">Received</th><th scope="col">From</th><th scope="col">Recipients</th><th scope="col">Stream</th><th scope="col">Size</th></tr></thead>
            <tbody>
              {page.data.data.map((m) => (
                <tr key={m.id}>
                  <td><Link href={`/messages/${encodeURIComponent(m.id)}`}>{formatTime(m.received_at)}</Link></td>
                  <td>{m.from || '<>'}</td>
                  <td>{m.recipients.map((r) => <div key={r.email}>{r.email} <StatusBadge status={r.status} /></div>)}</td>
                  <td>{m.stream}{m.tags.length ? <div class="muted">{m.tags.join(', ')}</div> : null}</td>
                  <td>{formatBytes(m.size)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.data.data.length === 0 ? <p class="muted">No messages match.</p> : null}
        </div>
      ) : null}
      <Pager hasPrevious={page.hasPrevious} hasNext={!!page.data?.next_cursor} previous={page.previous} next={page.next} />
    </section>
  );
}
