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

export const reply = (code: number, enhanced: string | undefined, text: string | string[], close = false): Reply =>
  ({ code, enhanced, text, ...(close ? { close } : {}) });

/** Wire form: "250-first\r\n250 2.0.0 last\r\n". Enhanced code is repeated on every line (RFC 2034). */
export function formatReply(r: Reply): string {
  const lines = Array.isArray(r.text) ? r.text : [r.text];
  return lines
    .map((line, i) => `${r.code}${i === lines.length - 1 ? ' ' : '-'}${r.enhanced ? r.enhanced + ' ' : ''}${line}`)
    .join('\r\n') + '\r\n';
}

export const isPositive = (r: Reply) => r.code >= 200 && r.code < 400;
export const isTemporary = (r: Reply) => r.code >= 400 && r.code < 500;
