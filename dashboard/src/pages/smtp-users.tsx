// SMTP users: the account's SMTP AUTH users (GET /v1/smtp-users), add one with a password and the
// sending domains it may use (POST; the password is sent once and never shown again), remove one
// after a confirmation (DELETE /v1/smtp-users/:name).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useLoad } from '../data.js';
import { formatTime } from '../format.js';
import { ConfirmButton, ErrorLine, Loading, Notice, PageHeader } from '../ui.js';

interface SmtpUser { name: string; created_at: string; allowed_domains: string[]; any_domain: boolean; default_stream: string }

export function SmtpUsersPage() {
  const users = useLoad(() => api.get<{ data: SmtpUser[] }>('/v1/smtp-users'), []);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const add = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const domains = String(data.get('domains') ?? '').split(/[\s,]+/).filter(Boolean);
    setError(null);
    try {
      const u = await api.post<SmtpUser>('/v1/smtp-users', { name: String(data.get('name') ?? '').trim(), password: String(data.get('password') ?? ''), allowed_domains: domains });
      setNotice(`SMTP user ${u.name} added.`);
      form.reset();
      users.reload();
    } catch (err) { setError(err as Error); }
  };
  const remove = async (name: string) => {
    setError(null);
    try { await api.del(`/v1/smtp-users/${encodeURIComponent(name)}`); setNotice(`SMTP user ${name} removed.`); users.reload(); } catch (err) { setError(err as Error); }
  };
  return (
    <section>
      <PageHeader title="SMTP users" />
      <form class="filters" aria-label="Add an SMTP user" onSubmit={add}>
        <label>User name<input name="name" required maxLength={128} autoComplete="off" /></label>
        <label>Password<input name="password" type="password" required minLength={8} maxLength={1024} autoComplete="new-password" /></label>
        <label>May send as (domains, comma-separated)<input name="domains" autoComplete="off" placeholder="example.com" /></label>
        <button type="submit" class="primary">Add user</button>
      </form>
      <Notice text={notice} />
      <ErrorLine error={error ?? users.error} />
      <Loading when={users.loading && !users.data} />
      {users.data?.data.length === 0 ? <p class="muted">No SMTP users yet.</p> : null}
      {users.data?.data.length ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">SMTP users</caption>
            <thead><tr><th scope="col">User</th><th scope="col">May send as</th><th scope="col">Stream</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {users.data.data.map((u) => (
                <tr key={u.name} data-user={u.name}>
                  <td><code>{u.name}</code></td>
                  <td>{u.any_domain ? 'any domain' : u.allowed_domains.join(', ') || 'no domain'}</td>
                  <td>{u.default_stream}</td><td>{formatTime(u.created_at)}</td>
                  <td><ConfirmButton label={`Remove ${u.name}`} confirmLabel={`Really remove ${u.name}?`} danger onConfirm={() => remove(u.name)} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
