// An SMTP reply as a value: sessions return these, never throw them. Texts are bland on purpose:
// no hostnames, SQL or config ever reach a client.

export interface Reply {
  code: number;
  /** RFC 3463 enhanced status code, e.g. "5.7.1"; omitted for 220/221 greetings and pre-EHLO replies. */
  enhanced?: string;
  /** One or more lines of text. */
  text: string | string[];
  /** Close the connection after sending this reply. */
  close?: boolean;
}

/** The same own properties as before (close only when true), without the spread's temporary object. */
export const reply = (code: number, enhanced: string | undefined, text: string | string[], close = false): Reply =>
  (close ? { code, enhanced, text, close } : { code, enhanced, text });

/** Wire form: "250-first\r\n250 2.0.0 last\r\n". Enhanced code is repeated on every line (RFC 2034). */
export function formatReply(r: Reply): string {
  const code = r.code;
  const enhanced = r.enhanced ? r.enhanced + ' ' : '';
  if (typeof r.text === 'string') return `${code} ${enhanced}${r.text}\r\n`; // one line: no array (every reply of a session but EHLO's)
  const lines = r.text;
  if (lines.length === 0) return '\r\n';
  let out = '';
  for (let i = 0; i < lines.length; i++) out += `${code}${i === lines.length - 1 ? ' ' : '-'}${enhanced}${lines[i]}\r\n`;
  return out;
}

/** The wire forms of replies made once and sent many times (keepWireForm): looked up, not formatted per write. */
const WIRE = new WeakMap<Reply, string>();

/**
 * Keeps r's wire form for formatReplies (a shared reply: an SMTP session's constants, made once per
 * process or per listener). Replies are values, never changed in place, so the form stays right.
 */
export function keepWireForm(r: Reply): Reply {
  WIRE.set(r, formatReply(r));
  return r;
}

/** Several replies in wire form, in order (pipelined replies written at once). */
export function formatReplies(replies: readonly Reply[]): string {
  if (replies.length === 1) { const r = replies[0]!; return WIRE.get(r) ?? formatReply(r); }
  let out = '';
  for (let i = 0; i < replies.length; i++) { const r = replies[i]!; out += WIRE.get(r) ?? formatReply(r); }
  return out;
}

export const isPositive = (r: Reply) => r.code >= 200 && r.code < 400;
export const isTemporary = (r: Reply) => r.code >= 400 && r.code < 500;
