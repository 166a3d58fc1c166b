// Owns the X-Postlane-Track header field of SMTP submissions: a client asks for open and/or click
// tracking of one message ("X-Postlane-Track: opens, clicks"; "none" turns the configured defaults
// off). When the field is present it says everything: what it does not name is off. It is taken
// out of the header before the message is stored and signed, like X-Postlane-Stream.
import { takeHeaderField } from './stream-field.js';

export const TRACK_FIELD = 'x-postlane-track';

/** What a message asks for; a key left out means "the configured default". */
export interface TrackRequest { opens?: boolean; clicks?: boolean }

/**
 * The header block without the field, what it asks (null: no field), and the words it did not
 * understand (the field is then ignored as a whole: a typo must not switch tracking on or off).
 */
export function takeTrackField(header: Buffer): { header: Buffer; track: TrackRequest | null; invalid: string | null } {
  const taken = takeHeaderField(header, TRACK_FIELD);
  if (taken.values.length === 0) return { header: taken.header, track: null, invalid: null };
  const words = taken.values.join(',').toLowerCase().split(/[\s,]+/).filter((w) => w !== '');
  const unknown = words.filter((w) => w !== 'opens' && w !== 'clicks' && w !== 'none');
  if (unknown.length > 0 || words.length === 0) return { header: taken.header, track: null, invalid: (unknown.join(' ') || '(empty)').slice(0, 60) };
  return { header: taken.header, track: { opens: words.includes('opens'), clicks: words.includes('clicks') }, invalid: null };
}
