// API keys: list (never the tokens), create (the token is shown once, in this page's memory only),
// revoke.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useLoad } from '../data.js';
import { formatTime } from '../format.js';
import { ConfirmButton, ErrorLine, Loading, Notice, PageHeader } from '../ui.js';

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
      <ErrorLine error={error ?? keys.error} />
      <Loading when={keys.loading && !keys.data} />
      {keys.data ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">API keys</caption>
            <thead><tr><th scope="col">Key</th><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead>
            <tbody>
              {keys.data.data.map((k) => (
                <tr key={k.id} data-key={k.id}>
                  <td><code>{k.id}</code></td><td>{k.name ?? '—'}</td><td>{k.scopes.join(', ')}</td>
                  <td>{formatTime(k.created_at)}</td><td>{formatTime(k.last_used_at)}</td>
                  <td>{k.revoked_at ? `revoked ${formatTime(k.revoked_at)}` : <ConfirmButton label="Revoke" confirmLabel={`Revoke ${k.id}?`} danger onConfirm={() => revoke(k.id)} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
