// SMTP users: the account's SMTP AUTH users (GET /v1/smtp-users), add one with a password and the
// sending domains it may use (POST; the password is sent once and never shown again), change one's
// domains, own limits and default stream (PATCH /v1/smtp-users/:name), remove one after a
// confirmation (DELETE /v1/smtp-users/:name).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useActions, useLoad } from '../data.js';
import { formatTime } from '../format.js';
import { LimitFields, formatLimits, limitsFromForm, type Limits } from '../limits.js';
import { ListView } from '../table.js';
import { ConfirmButton, Notice, PageHeader } from '../ui.js';

interface SmtpUser { name: string; created_at: string; allowed_domains: string[]; any_domain: boolean; default_stream: string; limits: Limits }

const domainsOf = (data: FormData) => String(data.get('domains') ?? '').split(/[\s,]+/).filter(Boolean);

export function SmtpUsersPage() {
  const users = useLoad(() => api.get<{ data: SmtpUser[] }>('/v1/smtp-users'), []);
  const [editing, setEditing] = useState<SmtpUser | null>(null);
  const { notice, error, run: act } = useActions(users.reload);
  const add = (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    void act(async () => {
      const u = await api.post<SmtpUser>('/v1/smtp-users', { name: String(data.get('name') ?? '').trim(), password: String(data.get('password') ?? ''), allowed_domains: domainsOf(data) });
      form.reset();
      return `SMTP user ${u.name} added.`;
    });
  };
  const save = (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const name = editing!.name;
    void act(async () => {
      await api.patch<SmtpUser>(`/v1/smtp-users/${encodeURIComponent(name)}`, { allowed_domains: domainsOf(data), default_stream: String(data.get('stream')), limits: limitsFromForm(data) });
      setEditing(null);
      return `SMTP user ${name} changed.`;
    });
  };
  const remove = (name: string) => act(async () => { await api.del(`/v1/smtp-users/${encodeURIComponent(name)}`); return `SMTP user ${name} removed.`; });
  return (
    <section>
      <PageHeader title="SMTP users" />
      <form class="filters" aria-label="Add an SMTP user" onSubmit={add}>
        <label>User name<input name="name" required maxLength={128} autoComplete="off" /></label>
        <label>Password<input name="password" type="password" required minLength={8} maxLength={1024} autoComplete="new-password" /></label>
        <label>May send as (domains, comma-separated)<input name="domains" autoComplete="off" placeholder="example.com" /></label>
        <button type="submit" class="primary">Add user</button>
      </form>
      {editing ? (
        <form class="card" aria-label={`Change ${editing.name}`} onSubmit={save} key={editing.name}>
          <h2>Change {editing.name}</h2>
          <label>May send as (domains, comma-separated)<input name="domains" autoComplete="off" defaultValue={editing.allowed_domains.join(', ')} /></label>
          <label>Stream of mail that names none
            <select name="stream" defaultValue={editing.default_stream}><option>transactional</option><option>broadcast</option></select>
          </label>
          <LimitFields legend="Own limits, on top of the account's: recipients per window (empty: only the account's)" limits={editing.limits} />
          <div class="actions form-actions">
            <button type="submit" class="primary">Save</button>
            <button type="button" onClick={() => setEditing(null)}>Cancel</button>
          </div>
        </form>
      ) : null}
      <Notice text={notice} />
      <ListView list={users} error={error} caption="SMTP users" empty="No SMTP users yet." rowKey={(u) => u.name} rowData={(u) => ({ 'data-user': u.name })} columns={[
        { label: 'User', cell: (u) => <code>{u.name}</code> },
        { label: 'May send as', cell: (u) => (u.any_domain ? 'any domain' : u.allowed_domains.join(', ') || 'no domain') },
        { label: 'Stream', cell: (u) => u.default_stream },
        { label: 'Own limits', cell: (u) => formatLimits(u.limits ?? {}) },
        { label: 'Created', cell: (u) => formatTime(u.created_at) },
        { label: 'Actions', hideLabel: true, cell: (u) => (
          <>
            <button type="button" onClick={() => setEditing(u)}>Change {u.name}</button>{' '}
            <ConfirmButton label={`Remove ${u.name}`} confirmLabel={`Really remove ${u.name}?`} danger onConfirm={() => remove(u.name)} />
          </>
        ) },
      ]} />
    </section>
  );
}
