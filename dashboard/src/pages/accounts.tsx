// Accounts (admins only): each account with its plan's limits and usage (GET /v1/accounts).
import { api } from '../api.js';
import { useLoad } from '../data.js';
import { ErrorLine, Loading, PageHeader } from '../ui.js';
import { GenericTable } from './queue.js';

export function AccountsPage() {
  const accounts = useLoad(() => api.get<{ data: Record<string, unknown>[] }>('/v1/accounts'), []);
  return (
    <section>
      <PageHeader title="Accounts" />
      <ErrorLine error={accounts.error} />
      <Loading when={accounts.loading && !accounts.data} />
      {accounts.data ? <GenericTable caption="Accounts, plans and usage" rows={accounts.data.data} /> : null}
    </section>
  );
}
