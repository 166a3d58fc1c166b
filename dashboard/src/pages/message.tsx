// One message: how it was accepted and each recipient's timeline (GET /v1/messages/:id for the
// attempts: when, MX host and IP, duration, TLS, response; GET /v1/messages/:id/timeline for the acceptance and the
// events), headers and a text preview when the relay offers them (GET /v1/messages/:id/content),
// and the actions retry / hold / release / delete (POST /v1/messages/bulk with this one id).
// The message's HTML is never put into this page: only in an iframe sandboxed without scripts,
// forms, popups or same-origin access.
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure, api } from '../api.js';
import { useLoad } from '../data.js';
import { formatBytes, formatTime } from '../format.js';
import { navigate } from '../router.js';
import { ConfirmButton, ErrorLine, Link, Loading, Notice, PageHeader, StatusBadge } from '../ui.js';

interface Tls { version: string | null; cipher: string | null; verified: boolean; policy: string; level: string }
interface Attempt { at: string; status: string; mx_host: string | null; remote_ip?: string | null; duration_ms?: number | null; response: string; tls: Tls | null }
interface TimelineEvent { id: string; at: string; type: string; recipient: string | null; data: Record<string, unknown> }
interface Accepted {
  at: string; listener: string; client_ip: string; user: string | null; node?: string | null; api_key?: string | null; subject?: string | null;
  from: string; size: number; stream: string; tags: string[];
}
interface Timeline { id: string; accepted: Accepted; events: TimelineEvent[] }
interface Recipient { id: string; email: string; status: string; attempts: number; next_attempt_at: string | null; last_response: string | null; history: Attempt[] }
interface Message {
  id: string; from: string; received_at: string; size: number; stream: string; tags: string[]; metadata: Record<string, string>;
  recipients: Recipient[];
}
interface Content {
  headers: { name: string; value: string }[]; subject: string | null; text: string; truncated: boolean;
  attachments: { filename: string | null; content_type: string; size: number }[];
  /** not sent by this relay (its preview is text only); shown only in a script-less sandbox if one ever is */
  html?: string | null;
}

export function MessagePage({ id }: { id: string }) {
  const message = useLoad(() => api.get<Message>(`/v1/messages/${encodeURIComponent(id)}`), [id]);
  const timeline = useLoad(() => api.get<Timeline>(`/v1/messages/${encodeURIComponent(id)}/timeline`), [id, message.data]);
  const content = useLoad(() => api.get<Content>(`/v1/messages/${encodeURIComponent(id)}/content`), [id, isFinal(message.data)]);
  const [notice, setNotice] = useState<string | null>(null);
  usePollWhilePending(message.data, message.reload);
  const [actionError, setActionError] = useState<Error | null>(null);
  const act = (action: 'retry' | 'hold' | 'release' | 'delete') => async () => {
    setActionError(null);
    try {
      const r = await api.post<BulkResult>('/v1/messages/bulk', { action, ids: [id] });
      if (action === 'delete' && r.results[0]?.status === 'ok') return navigate('/messages');
      setNotice(describeResult(action, r.results[0]));
      message.reload();
    } catch (e) { setActionError(e as Error); }
  };
  const m = message.data;
  return (
    <section>
      <p><Link href="/messages">← Messages</Link></p>
      <PageHeader title={`Message ${id}`}>
        <button type="button" onClick={act('retry')}>Retry now</button>
        <button type="button" onClick={act('hold')}>Hold</button>
        <button type="button" onClick={act('release')}>Release</button>
        <ConfirmButton label="Delete" confirmLabel="Confirm delete" danger onConfirm={act('delete')} />
      </PageHeader>
      <Notice text={notice} />
      <ErrorLine error={actionError} />
      <ErrorLine error={message.error} />
      <Loading when={message.loading && !m} />
      {m ? <Details m={m} accepted={timeline.data?.accepted} /> : null}
      {m ? m.recipients.map((r) => <RecipientTimeline key={r.id} r={r} events={(timeline.data?.events ?? []).filter((e) => e.recipient === r.email && !ATTEMPT_EVENTS.has(e.type))} />) : null}
      <h2>Content</h2>
      {content.data ? <ContentView c={content.data} />
        : content.error instanceof ApiFailure && content.error.code === 'content_gone' ? <p class="muted">Every recipient is final: the body is no longer kept.</p>
        : <ErrorLine error={content.error} />}
    </section>
  );
}

interface BulkResult { results: { id: string; status: 'ok' | 'not_found' | 'unchanged'; recipients: number }[] }

/** Events the attempt list already shows (one per attempt); the others (opens, clicks, …) join the timeline. */
const ATTEMPT_EVENTS = new Set(['delivered', 'deferred', 'bounced']);

export function describeResult(action: string, r: BulkResult['results'][number] | undefined): string {
  if (!r || r.status === 'not_found') return `${action}: no such message.`;
  if (r.status === 'unchanged') return `${action}: no recipient was in a state this applies to.`;
  return `${action}: ${r.recipients} recipient(s).`;
}

const PENDING = new Set(['queued', 'deferred', 'delivering']);
const isFinal = (m: Message | null) => !!m && m.recipients.every((r) => !PENDING.has(r.status) && r.status !== 'held');

/** Re-reads the message every 3 s while a recipient is still on its way, so the timeline fills itself. */
function usePollWhilePending(m: Message | null, reload: () => void): void {
  const pending = !!m?.recipients.some((r) => PENDING.has(r.status));
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, [pending, reload]);
}

function Details({ m, accepted }: { m: Message; accepted: Accepted | undefined }) {
  return (
    <dl class="details">
      <dt>From</dt><dd>{m.from || '<>'}</dd>
      <dt>Received</dt><dd>{formatTime(m.received_at)}</dd>
      <dt>Size</dt><dd>{formatBytes(m.size)}</dd>
      <dt>Stream</dt><dd>{m.stream}</dd>
      <dt>Tags</dt><dd>{m.tags.join(', ') || '—'}</dd>
      {accepted?.subject ? <><dt>Subject</dt><dd>{accepted.subject}</dd></> : null}
      {accepted ? <><dt>Accepted by</dt><dd>{acceptedBy(accepted)}</dd></> : null}
      {accepted?.node ? <><dt>Node</dt><dd><code>{accepted.node}</code></dd></> : null}
      {Object.entries(m.metadata).map(([k, v]) => [<dt key={k}>{k}</dt>, <dd key={k + 'v'}>{v}</dd>])}
    </dl>
  );
}

/** The listener and client, then the SMTP user or the API key (a dashboard user's key is its name). */
function acceptedBy(a: Accepted): string {
  const who = a.api_key ? (a.api_key.startsWith('dashboard:') ? a.api_key : `API key ${a.api_key}`) : a.user ? `SMTP user ${a.user}` : null;
  return `${a.listener} from ${a.client_ip}${who ? `, ${who}` : ''}`;
}

type Entry = { at: string; attempt: Attempt; event?: undefined } | { at: string; event: TimelineEvent; attempt?: undefined };

function RecipientTimeline({ r, events }: { r: Recipient; events: TimelineEvent[] }) {
  const entries: Entry[] = [...r.history.map((attempt) => ({ at: attempt.at, attempt })), ...events.map((event) => ({ at: event.at, event }))]
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return (
    <article class="card recipient" aria-label={`Recipient ${r.email}`}>
      <h2>{r.email} <StatusBadge status={r.status} /></h2>
      <p class="muted">{r.attempts} attempt(s){r.next_attempt_at ? `; next at ${formatTime(r.next_attempt_at)}` : ''}</p>
      <ol class="timeline" aria-label={`Timeline of ${r.email}`}>
        {entries.map((e, i) => (e.attempt ? <AttemptItem key={i} a={e.attempt} /> : (
          <li key={i} data-status={e.event!.type}><time dateTime={e.at}>{formatTime(e.at)}</time> <StatusBadge status={e.event!.type} /> {eventDetail(e.event!)}</li>
        )))}
        {entries.length === 0 ? <li class="muted">No attempt yet.</li> : null}
      </ol>
    </article>
  );
}

function AttemptItem({ a }: { a: Attempt }) {
  return (
    <li data-status={a.status}>
      <time dateTime={a.at}>{formatTime(a.at)}</time> <StatusBadge status={a.status} />
      <div>{a.mx_host ? <>MX <code>{a.mx_host}</code>{a.remote_ip ? <> (<code>{a.remote_ip}</code>)</> : null}</> : null}
        {a.duration_ms !== undefined && a.duration_ms !== null ? <> · {a.duration_ms} ms</> : null}
        {a.tls ? <> · TLS {a.tls.version ?? '?'} {a.tls.cipher ?? ''} ({a.tls.policy}{a.tls.verified ? ', verified' : ''})</> : <> · no TLS</>}</div>
      <pre class="response">{a.response}</pre>
    </li>
  );
}

/** The readable part of an event's data: a clicked URL, a user agent, a reason (text only). */
function eventDetail(e: TimelineEvent): string {
  const d = e.data;
  return ['url', 'reason', 'user_agent', 'response'].map((k) => d[k]).filter((v) => typeof v === 'string').join(' · ');
}

function ContentView({ c }: { c: Content }) {
  const [showHtml, setShowHtml] = useState(false);
  return (
    <div>
      <details>
        <summary>Headers ({c.headers.length})</summary>
        <table class="headers"><tbody>{c.headers.map((h, i) => <tr key={i}><th scope="row">{h.name}</th><td>{h.value}</td></tr>)}</tbody></table>
      </details>
      <h3>Text preview</h3>
      <pre class="preview" data-testid="text-preview">{c.text || '(no text)'}</pre>
      {c.truncated ? <p class="muted">Preview truncated.</p> : null}
      {c.attachments.length ? (
        <>
          <h3>Attachments</h3>
          <ul>{c.attachments.map((a, i) => <li key={i}>{a.filename ?? '(no name)'} · {a.content_type} · {formatBytes(a.size)}</li>)}</ul>
        </>
      ) : null}
      {c.html ? (
        <div>
          <button type="button" aria-expanded={showHtml} onClick={() => setShowHtml(!showHtml)}>{showHtml ? 'Hide' : 'Show'} HTML (sandboxed, no scripts, no remote content)</button>
          {showHtml ? <iframe class="html-preview" title="HTML part, sandboxed" sandbox="" referrerpolicy="no-referrer" srcdoc={c.html} /> : null}
        </div>
      ) : null}
    </div>
  );
}
