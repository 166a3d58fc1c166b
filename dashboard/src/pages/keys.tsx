// API keys: list (never the tokens), create (the token is shown once, in this page's memory only),
// revoke.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useLoad } from '../data.js';
import { formatTime } from '../format.js';
import { ListView } from '../table.js';
import { ConfirmButton, Notice, PageHeader } from '../ui.js';

interface ApiKey { id: string; name: string | null; scopes: string[]; created_at: string; last_used_at: string | null; revoked_at: string | null }
const SCOPES = ['send', 'read', 'admin'];

export function KeysPage() {
  const keys = useLoad(() => api.get<{ data: ApiKey[] }>('/v1/keys'), []);
  const [created, setCreated] = useState<{ id: string; token: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const scopes = SCOPES.filter((s) => data.get(`scope-${s}`));
    setError(null);
    try {
      const name = String(data.get('name') ?? '').trim();
      const key = await api.post<ApiKey & { token: string }>('/v1/keys', { ...(name ? { name } : {}), scopes });
      setCreated({ id: key.id, token: key.token });
      form.reset();
      keys.reload();
    } catch (err) { setError(err as Error); }
  };
  const revoke = async (id: string) => {
    setError(null);
    try { await api.del(`/v1/keys/${encodeURIComponent(id)}`); setNotice(`Key ${id} revoked.`); keys.reload(); } catch (err) { setError(err as Error); }
  };
  return (
    <section>
      <PageHeader title="API keys" />
      <form class="filters" aria-label="Create an API key" onSubmit={create}>
        <label>Name<input name="name" maxLength={100} /></label>
        <fieldset><legend>Scopes</legend>
          {SCOPES.map((s) => <label key={s} class="inline"><input type="checkbox" name={`scope-${s}`} defaultChecked={s !== 'admin'} /> {s}</label>)}
        </fieldset>
        <button type="submit" class="primary">Create key</button>
      </form>
      {created ? (
        <div class="card secret" role="status">
          <p><strong>Copy this token now: it is not shown again.</strong></p>
          <label>Token of key {created.id}<input readOnly value={created.token} data-testid="new-token" onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} /></label>
          <button type="button" onClick={() => { void navigator.clipboard?.writeText(created.token); setNotice('Token copied.'); }}>Copy</button>
          <button type="button" onClick={() => setCreated(null)}>Done</button>
        </div>
      ) : null}
      <Notice text={notice} />
      <ListView list={keys} error={error} caption="API keys" rowKey={(k) => k.id} rowData={(k) => ({ 'data-key': k.id })} columns={[
        { label: 'Key', cell: (k) => <code>{k.id}</code> },
        { label: 'Name', cell: (k) => k.name ?? '—' },
        { label: 'Scopes', cell: (k) => k.scopes.join(', ') },
        { label: 'Created', cell: (k) => formatTime(k.created_at) },
        { label: 'Last used', cell: (k) => formatTime(k.last_used_at) },
        { label: 'State', cell: (k) => (k.revoked_at ? `revoked ${formatTime(k.revoked_at)}` : <ConfirmButton label="Revoke" confirmLabel={`Revoke ${k.id}?`} danger onConfirm={() => revoke(k.id)} />) },
      ]} />
    </section>
  );
}
