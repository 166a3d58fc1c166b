// Domains: the account's sending domains (GET /v1/domains) and, per domain, the DNS records to
// publish with a copy button each (GET /v1/domains/:name), or checked now against DNS with the fix
// for each wrong one (GET /v1/domains/:name/check). "Add domain" (POST /v1/domains) and "Rotate DKIM
// key" (POST /v1/domains/:name/keys) show the records to publish, each copyable. "Remove" (DELETE
// /v1/domains/:name) asks for a confirmation first.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { useLoad } from '../data.js';
import { formatTime } from '../format.js';
import { DataTable } from '../table.js';
import { ConfirmButton, ErrorLine, Loading, Notice, PageHeader, StatusBadge } from '../ui.js';

interface Domain { name: string; created_at: string; dkim: { selector: string; algorithm: string; state: string }[] }
interface DnsRecord { purpose: string; name: string; type: string; value: string; required: boolean; note?: string; status?: string; found?: string | null; fix?: string | null }
interface Check { name: string; ok: boolean; checks: DnsRecord[] }

export function DomainsPage() {
  const domains = useLoad(() => api.get<{ data: Domain[] }>('/v1/domains'), []);
  const [open, setOpen] = useState<string | null>(null);
  const [fresh, setFresh] = useState<{ title: string; records: DnsRecord[] } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const add = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const name = String(new FormData(form).get('name') ?? '').trim();
    setError(null);
    try {
      const d = await api.post<Domain & { records: DnsRecord[] }>('/v1/domains', { name });
      setFresh({ title: `Domain ${d.name} added: publish these records`, records: d.records });
      form.reset();
      domains.reload();
    } catch (err) { setError(err as Error); }
  };
  const rotate = async (name: string) => {
    setError(null);
    try {
      const r = await api.post<{ name: string; keys: Domain['dkim']; records: DnsRecord[] }>(`/v1/domains/${encodeURIComponent(name)}/keys`, {});
      setFresh({ title: `New DKIM key for ${name} (${r.keys.map((k) => k.selector).join(', ')}): publish this record; the current key signs until it is seen in DNS`, records: r.records });
      domains.reload();
    } catch (err) { setError(err as Error); }
  };
  const remove = async (name: string) => {
    setError(null);
    try {
      await api.del(`/v1/domains/${encodeURIComponent(name)}`);
      setNotice(`Domain ${name} removed.`);
      if (open === name) setOpen(null);
      domains.reload();
    } catch (err) { setError(err as Error); }
  };
  return (
    <section>
      <PageHeader title="Domains" />
      <form class="filters" aria-label="Add a sending domain" onSubmit={add}>
        <label>Domain name<input name="name" required maxLength={253} placeholder="mail.example.com" autoComplete="off" /></label>
        <button type="submit" class="primary">Add domain</button>
      </form>
      {fresh ? (
        <div class="card" role="status">
          <p><strong>{fresh.title}</strong></p>
          <RecordTable caption={fresh.title} records={fresh.records} />
          <button type="button" onClick={() => setFresh(null)}>Done</button>
        </div>
      ) : null}
      <Notice text={notice} />
      <ErrorLine error={error ?? domains.error} />
      <Loading when={domains.loading && !domains.data} />
      {domains.data?.data.length === 0 ? <p class="muted">No sending domains yet: add one above.</p> : null}
      {domains.data?.data.map((d) => (
        <article key={d.name} class="card">
          <h2>{d.name}</h2>
          <p>Added {formatTime(d.created_at)} · DKIM: {d.dkim.map((k) => `${k.selector} (${k.algorithm}, ${k.state})`).join(', ') || 'none'}</p>
          <button type="button" aria-expanded={open === d.name} onClick={() => setOpen(open === d.name ? null : d.name)}>{open === d.name ? 'Hide' : 'Show'} DNS records</button>
          {' '}<ConfirmButton label="Rotate DKIM key" confirmLabel={`Rotate the DKIM key of ${d.name}?`} onConfirm={() => rotate(d.name)} />
          {' '}<ConfirmButton label={`Remove ${d.name}`} confirmLabel={`Really remove ${d.name}? Its mail is no longer signed`} danger onConfirm={() => remove(d.name)} />
          {open === d.name ? <Records name={d.name} /> : null}
        </article>
      ))}
    </section>
  );
}

function Records({ name }: { name: string }) {
  const [checking, setChecking] = useState(false);
  const detail = useLoad(async () => (checking
    ? (await api.get<Check>(`/v1/domains/${encodeURIComponent(name)}/check`)).checks
    : (await api.get<Domain & { records: DnsRecord[] }>(`/v1/domains/${encodeURIComponent(name)}`)).records), [name, checking]);
  if (detail.error) return <ErrorLine error={detail.error} />;
  if (!detail.data) return <Loading when />;
  return (
    <div>
      <button type="button" onClick={() => (checking ? detail.reload() : setChecking(true))} disabled={detail.loading}>Check DNS now</button>
      <RecordTable caption={`DNS records for ${name}`} records={detail.data} />
    </div>
  );
}

/** DNS records (with their check, when given), each value copyable. */
function RecordTable({ caption, records }: { caption: string; records: DnsRecord[] }) {
  const [copied, setCopied] = useState<string | null>(null);
  return (
    <>
      <Notice text={copied} />
      <DataTable caption={caption} showCaption rows={records} rowKey={(_, i) => i} columns={[
        { label: 'Purpose', cell: (r) => <>{r.purpose}{r.required ? '' : ' (optional)'}{r.status ? <div><StatusBadge status={r.status} /></div> : null}</> },
        { label: 'Name', cell: (r) => <code>{r.name}</code> },
        { label: 'Type', cell: (r) => r.type },
        { label: 'Value', cell: (r) => (
          <>
            <code class="wrap">{r.value}</code>{r.note ? <div class="muted">{r.note}</div> : null}
            {r.status && r.status !== 'ok' && r.found ? <div class="muted">found: <code class="wrap">{r.found}</code></div> : null}
            {r.fix ? <div class="error">{r.fix}</div> : null}
          </>
        ) },
        { label: 'Copy', hideLabel: true, cell: (r) => <button type="button" aria-label={`Copy the ${r.purpose} record value for ${r.name}`} onClick={() => { void navigator.clipboard?.writeText(r.value); setCopied(`${r.purpose} value copied.`); }}>Copy</button> },
      ]} />
    </>
  );
}
