// Small shared pieces of the pages: page header, error and status lines, pager, a confirm-then-act
// button, and a status badge. Every control has a visible label or an aria-label.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiFailure } from './api.js';
import { onLinkClick } from './router.js';

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return <header class="page-header"><h1>{title}</h1>{children ? <div class="actions">{children}</div> : null}</header>;
}

export function ErrorLine({ error }: { error: Error | null }) {
  if (!error) return null;
  if (isMissingRoute(error)) return <p class="muted">This relay does not offer this view yet.</p>;
  return <p class="error" role="alert">{error.message}{error instanceof ApiFailure ? <code> ({error.code})</code> : null}</p>;
}

/** A 404 for the route itself (an older relay), as opposed to a missing message, key, etc. */
function isMissingRoute(error: Error): boolean {
  return error instanceof ApiFailure && error.status === 404 && /no such route|route .*not found/i.test(error.message);
}

export function Notice({ text }: { text: string | null }) {
  return <p class="notice" role="status" aria-live="polite">{text ?? ''}</p>;
}

export function Loading({ when }: { when: boolean }) {
  return when ? <p class="muted" aria-live="polite">Loading…</p> : null;
}

export function Pager({ hasPrevious, hasNext, previous, next }: { hasPrevious: boolean; hasNext: boolean; previous: () => void; next: () => void }) {
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" onClick={previous} disabled={!hasPrevious}>← Previous</button>
      <button type="button" onClick={next} disabled={!hasNext}>Next →</button>
    </nav>
  );
}

export function Link({ href, children, current }: { href: string; children: ComponentChildren; current?: boolean }) {
  return <a href={href} aria-current={current ? 'page' : undefined} onClick={onLinkClick}>{children}</a>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status.replace(/[^a-z_]/g, '')}`}>{status}</span>;
}

/** A button that asks "Sure?" on the first press and acts on the second (no modal to trap focus). */
export function ConfirmButton({ label, confirmLabel, onConfirm, danger }: { label: string; confirmLabel?: string; onConfirm: () => Promise<void> | void; danger?: boolean }) {
  const [armed, setArmed] = useState(false);
  const [busy, setBusy] = useState(false);
  const act = async () => {
    if (!armed) { setArmed(true); return; }
    setBusy(true);
    try { await onConfirm(); } finally { setBusy(false); setArmed(false); }
  };
  return (
    <button type="button" class={danger ? 'danger' : ''} disabled={busy} onClick={act} onBlur={() => setArmed(false)}>
      {armed ? (confirmLabel ?? `Confirm: ${label}`) : label}
    </button>
  );
}

/** Runs an action, turning its failure into a message for a Notice/ErrorLine. */
export async function attempt(fn: () => Promise<unknown>, done: (msg: string) => void, fail: (e: Error) => void, msg: string): Promise<void> {
  try { await fn(); done(msg); } catch (e) { fail(e as Error); }
}
