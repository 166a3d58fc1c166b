// Owns the X-Postlane-Stream header field of SMTP submissions: a client chooses the message's
// stream (transactional, the default, or broadcast: newsletters and campaigns, which get one-click
// unsubscribe and are stopped by unsubscribe suppressions) by writing it in its header. The field
// is taken out of the header before the message is stored and signed, so it never leaves the relay.
export type Stream = 'transactional' | 'broadcast';

export const STREAM_FIELD = 'x-postlane-stream';

/** The header block without any X-Postlane-Stream field (and its folded lines), and the stream the last one named. */
export function takeStreamField(header: Buffer): { header: Buffer; stream: Stream | null; invalid: string | null } {
  const text = header.toString('latin1');
  if (!/(^|\n)x-postlane-stream[ \t]*:/i.test(text)) return { header, stream: null, invalid: null };
  const lines = text.split(/(?<=\n)/);
  const kept: string[] = [];
  let stream: Stream | null = null;
  let invalid: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const m = /^x-postlane-stream[ \t]*:(.*)$/is.exec(lines[i]!);
    if (!m) { kept.push(lines[i]!); continue; }
    let value = m[1]!;
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1]!)) value += lines[++i]!;
    const v = value.replace(/\s+/g, ' ').trim().toLowerCase();
    if (v === 'transactional' || v === 'broadcast') { stream = v; invalid = null; } else invalid = v.slice(0, 60);
  }
  return { header: Buffer.from(kept.join(''), 'latin1'), stream, invalid };
}
