// Accounts: every account for an admin, one's own otherwise (GET /v1/accounts), with its plan's
// limits and the usage of each limited window.
import { api } from '../api.js';
import { useLoad } from '../data.js';
import { formatTime } from '../format.js';
import { ErrorLine, Loading, PageHeader } from '../ui.js';

interface Usage { window: string; limit: number; used: number; resets_at: string }
interface Account { name: string; created_at: string; tracking_domain: string | null; usage: Usage[] }

export function AccountsPage() {
  const accounts = useLoad(() => api.get<{ data: Account[] }>('/v1/accounts'), []);
  return (
    <section>
      <PageHeader title="Accounts" />
      <ErrorLine error={accounts.error} />
      <Loading when={accounts.loading && !accounts.data} />
      {accounts.data ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Accounts, plans and usage</caption>
            <thead><tr><th scope="col">Account</th><th scope="col">Created</th><th scope="col">Usage against the plan</th><th scope="col">Tracking domain</th></tr></thead>
            <tbody>
              {accounts.data.data.map((a) => (
                <tr key={a.name}>
                  <td>{a.name}</td><td>{formatTime(a.created_at)}</td>
                  <td>{a.usage.length ? a.usage.map((u) => (
                    <div key={u.window}>
                      <label class="inline">per {u.window}: {u.used} / {u.limit}
                        <meter min={0} max={u.limit} value={u.used} high={u.limit * 0.8} optimum={0} aria-label={`${a.name}: ${u.used} of ${u.limit} per ${u.window}`} />
                      </label>
                    </div>
                  )) : 'unlimited'}</td>
                  <td>{a.tracking_domain ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
