// Suppressions: the account's list (GET /v1/suppressions, searchable, cursor paged), add one
// (POST), remove one (DELETE), import a CSV file (POST /v1/suppressions/import, the refused lines
// listed) and export the whole list (GET /v1/suppressions/export, saved as a file).
import { useState } from 'preact/hooks';
import { api, requestText, type Page } from '../api.js';
import { usePaged } from '../data.js';
import { formatTime } from '../format.js';
import { ConfirmButton, ErrorLine, Loading, Notice, PageHeader, Pager } from '../ui.js';

interface Suppression { email: string; scope: string; reason: string; created_at: string; source: string | null; message_id: string | null; detail: string | null }

const SCOPES = ['all', 'transactional', 'broadcast'];

export function SuppressionsPage() {
  const [search, setSearch] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const page = usePaged((cursor) => api.get<Page<Suppression>>('/v1/suppressions', { search, cursor, limit: 100 }), [search]);
  const run = async (fn: () => Promise<string>) => {
    setError(null);
    try { setNotice(await fn()); page.reload(); } catch (e) { setError(e as Error); }
  };
  const add = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const detail = String(data.get('detail') ?? '').trim();
    void run(async () => {
      const r = await api.post<{ added: number }>('/v1/suppressions', { suppressions: [{ email: String(data.get('email')).trim(), scope: String(data.get('scope')), ...(detail ? { detail } : {}) }] });
      form.reset();
      return r.added ? 'Address suppressed.' : 'The address was already suppressed.';
    });
  };
  const importCsv = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    void run(async () => {
      const r = await api.post<{ read: number; added: number; errors: { line: number; message: string }[] }>('/v1/suppressions/import', { csv: await file.text() });
      input.value = '';
      const refused = r.errors.length ? ` Refused: ${r.errors.slice(0, 5).map((x) => `line ${x.line}: ${x.message}`).join('; ')}${r.errors.length > 5 ? '…' : ''}` : '';
      return `Read ${r.read} line(s), ${r.added} new.${refused}`;
    });
  };
  const exportCsv = () => void run(async () => {
    const csv = await requestText('/v1/suppressions/export');
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    Object.assign(document.createElement('a'), { href: url, download: 'suppressions.csv' }).click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return `Exported ${Math.max(0, csv.split('\n').filter(Boolean).length - 1)} entr(ies).`;
  });
  return (
    <section>
      <PageHeader title="Suppressions">
        <label class="file-button">Import CSV<input type="file" accept=".csv,text/csv" onChange={importCsv} /></label>
        <button type="button" onClick={exportCsv}>Export CSV</button>
      </PageHeader>
      <form class="filters" aria-label="Suppress an address" onSubmit={add}>
        <label>Address<input name="email" type="email" required /></label>
        <label>Scope<select name="scope">{SCOPES.map((s) => <option key={s}>{s}</option>)}</select></label>
        <label>Note<input name="detail" maxLength={500} /></label>
        <button type="submit" class="primary">Suppress</button>
      </form>
      <form class="filters" role="search" aria-label="Search suppressions" onSubmit={(e) => { e.preventDefault(); setSearch(String(new FormData(e.currentTarget as HTMLFormElement).get('q') ?? '').trim()); }}>
        <label>Search<input name="q" type="search" /></label>
        <button type="submit">Search</button>
      </form>
      <Notice text={notice} />
      <ErrorLine error={error ?? page.error} />
      <Loading when={page.loading} />
      {page.data ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Suppressed addresses</caption>
            <thead><tr><th scope="col">Address</th><th scope="col">Scope</th><th scope="col">Reason</th><th scope="col">Since</th><th scope="col">Source</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {page.data.data.map((s) => (
                <tr key={s.email + s.scope}>
                  <td>{s.email}{s.detail ? <div class="muted">{s.detail}</div> : null}</td><td>{s.scope}</td><td>{s.reason}</td>
                  <td>{formatTime(s.created_at)}</td><td>{s.source ?? '—'}</td>
                  <td><ConfirmButton label="Remove" confirmLabel={`Remove ${s.email}?`} danger onConfirm={() => run(async () => { await api.del(`/v1/suppressions/${encodeURIComponent(s.email)}`, { scope: s.scope }); return `${s.email} removed.`; })} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.data.data.length === 0 ? <p class="muted">No suppressed addresses.</p> : null}
        </div>
      ) : null}
      <Pager hasPrevious={page.hasPrevious} hasNext={!!page.data?.next_cursor} previous={page.previous} next={page.next} />
    </section>
  );
}
