// Owns the X-Postlane-Stream header field of SMTP submissions: a client chooses the message's
// stream (transactional, the default, or broadcast: newsletters and campaigns, which get one-click
// unsubscribe and are stopped by unsubscribe suppressions) by writing it in its header. The field
// is taken out of the header before the message is stored and signed, so it never leaves the relay.
// takeHeaderField does the removal for every such X-Postlane-* field (track-field.ts too).
export type Stream = 'transactional' | 'broadcast';

export const STREAM_FIELD = 'x-postlane-stream';

/**
 * The header block without any field called `name` (lower-case; its folded lines too) and the
 * values of those fields, unfolded, in order; the same Buffer when there is none.
 */
export function takeHeaderField(header: Buffer, name: string): { header: Buffer; values: string[] } {
  const text = header.toString('latin1');
  const { present, field } = fieldPatterns(name);
  if (!present.test(text)) return { header, values: [] };
  const lines = text.split(/(?<=\n)/);
  const kept: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = field.exec(lines[i]!);
    if (!m) { kept.push(lines[i]!); continue; }
    let value = m[1]!;
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1]!)) value += lines[++i]!;
    values.push(value.replace(/\s+/g, ' ').trim());
  }
  return { header: Buffer.from(kept.join(''), 'latin1'), values };
}

/** The two patterns of a field name, built once per name (not per message); neither has the g or y flag, so they keep no state. */
const patterns = new Map<string, { present: RegExp; field: RegExp }>();
function fieldPatterns(name: string): { present: RegExp; field: RegExp } {
  let p = patterns.get(name);
  if (!p) patterns.set(name, p = { present: new RegExp(`(^|\\n)${name}[ \\t]*:`, 'i'), field: new RegExp(`^${name}[ \\t]*:(.*)$`, 'is') });
  return p;
}

/** The header block without any X-Postlane-Stream field (and its folded lines), and the stream the last one named. */
export function takeStreamField(header: Buffer): { header: Buffer; stream: Stream | null; invalid: string | null } {
  const taken = takeHeaderField(header, STREAM_FIELD);
  let stream: Stream | null = null;
  let invalid: string | null = null;
  for (const value of taken.values) {
    const v = value.toLowerCase();
    if (v === 'transactional' || v === 'broadcast') { stream = v; invalid = null; } else invalid = v.slice(0, 60);
  }
  return { header: taken.header, stream, invalid };
}
