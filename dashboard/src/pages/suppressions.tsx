// Suppressions: the account's list (GET /v1/suppressions, searchable, cursor paged), add one
// (POST), remove one (DELETE), import a CSV file (POST /v1/suppressions/import, the refused lines
// listed) and export the whole list (GET /v1/suppressions/export, saved as a file).
import { useState } from 'preact/hooks';
import { api, requestText, type Page } from '../api.js';
import { useActions, usePaged } from '../data.js';
import { formatTime } from '../format.js';
import { ListView } from '../table.js';
import { ConfirmButton, Notice, PageHeader } from '../ui.js';

interface Suppression { email: string; scope: string; reason: string; created_at: string; source: string | null; message_id: string | null; detail: string | null }

const SCOPES = ['all', 'transactional', 'broadcast'];

export function SuppressionsPage() {
  const [search, setSearch] = useState('');
  const page = usePaged((cursor) => api.get<Page<Suppression>>('/v1/suppressions', { search, cursor, limit: 100 }), [search]);
  const { notice, error, run } = useActions(page.reload);
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
      <ListView list={page} error={error} caption="Suppressed addresses" empty="No suppressed addresses." rowKey={(s) => s.email + s.scope} columns={[
        { label: 'Address', cell: (s) => <>{s.email}{s.detail ? <div class="muted">{s.detail}</div> : null}</> },
        { label: 'Scope', cell: (s) => s.scope },
        { label: 'Reason', cell: (s) => s.reason },
        { label: 'Since', cell: (s) => formatTime(s.created_at) },
        { label: 'Source', cell: (s) => s.source ?? '—' },
        { label: 'Actions', hideLabel: true, cell: (s) => <ConfirmButton label="Remove" confirmLabel={`Remove ${s.email}?`} danger onConfirm={() => run(async () => { await api.del(`/v1/suppressions/${encodeURIComponent(s.email)}`, { scope: s.scope }); return `${s.email} removed.`; })} /> },
      ]} />
    </section>
  );
}
