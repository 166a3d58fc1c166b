// Accounts: every account for an admin, one's own otherwise (GET /v1/accounts), with its plan's
// limits and the usage of each limited window. An admin edits an account's plan (PATCH
// /v1/accounts/:name, sent as the operator whichever account the admin acts for).
import { useState } from 'preact/hooks';
import { api, type Session } from '../api.js';
import { useActions, useLoad } from '../data.js';
import { formatTime } from '../format.js';
import { LimitFields, formatLimits, limitsFromForm, type Limits } from '../limits.js';
import { ListView } from '../table.js';
import { Notice, PageHeader } from '../ui.js';

interface Usage { window: string; limit: number; used: number; resets_at: string }
interface Account { name: string; created_at: string; limits: Limits; tracking_domain: string | null; usage: Usage[] }

export function AccountsPage({ session }: { session: Session }) {
  const accounts = useLoad(() => api.get<{ data: Account[] }>('/v1/accounts'), []);
  const [editing, setEditing] = useState<Account | null>(null);
  const { notice, error, run } = useActions(accounts.reload);
  const isAdmin = session.user.role === 'admin';
  const save = (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const name = editing!.name;
    void run(async () => {
      const a = await api.patch<Account>(`/v1/accounts/${encodeURIComponent(name)}`, { limits: limitsFromForm(data) }, { operator: true });
      setEditing(null);
      return `Plan of ${a.name}: ${formatLimits(a.limits)}.`;
    });
  };
  return (
    <section>
      <PageHeader title="Accounts" />
      {editing ? (
        <form class="card" aria-label={`Plan of ${editing.name}`} onSubmit={save} key={editing.name}>
          <LimitFields legend={`Plan of ${editing.name}: recipients per window (empty: unlimited)`} limits={editing.limits} />
          <div class="actions form-actions">
            <button type="submit" class="primary">Save plan</button>
            <button type="button" onClick={() => setEditing(null)}>Cancel</button>
          </div>
        </form>
      ) : null}
      <Notice text={notice} />
      <ListView list={accounts} error={error} caption="Accounts, plans and usage" rowKey={(a) => a.name} rowData={(a) => ({ 'data-account': a.name })} columns={[
        { label: 'Account', cell: (a) => a.name },
        { label: 'Created', cell: (a) => formatTime(a.created_at) },
        { label: 'Usage against the plan', cell: (a) => (a.usage.length ? a.usage.map((u) => (
          <div key={u.window}>
            <label class="inline">per {u.window}: {u.used} / {u.limit}
              <meter min={0} max={u.limit} value={u.used} high={u.limit * 0.8} optimum={0} aria-label={`${a.name}: ${u.used} of ${u.limit} per ${u.window}`} />
            </label>
          </div>
        )) : 'unlimited') },
        { label: 'Tracking domain', cell: (a) => a.tracking_domain ?? '—' },
        ...(isAdmin ? [{ label: 'Actions', hideLabel: true, cell: (a: Account) => <button type="button" onClick={() => setEditing(a)}>Edit plan of {a.name}</button> }] : []),
      ]} />
    </section>
  );
}
