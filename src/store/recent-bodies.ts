// RecentBodies: the small bodies this node has just stored, kept in memory for their first delivery
// attempt, so that attempt reads them without a store round trip (on SQLite one worker request and
// the blob copied out of the database; on PostgreSQL one query). A cache only: put() stores every
// body durably before it resolves, exactly as without it, and a miss reads the store. Bounded by a
// byte budget (oldest out first) and an age; an entry goes when its message's attempt is recorded
// or the message is deleted. Only readBody(id, { claimed: true }) consults it: a leased recipient
// means the message is not finished (its body still stored), whichever node recorded what since.
import type { Clock } from '../clock.js';

/** Bytes of bodies (and header prefixes) kept at most; a few hundred 4 KB messages in flight. */
export const RECENT_BODIES_MAX_BYTES = 4 * 1024 * 1024;
/** An entry older than this is dropped: its first attempt was not soon (a backlog, a scheduled send). */
export const RECENT_BODY_MAX_AGE_MS = 60_000;
/** A body larger than this share of the budget is not kept (it would push out many small ones). */
const LARGEST_SHARE = 16;

interface Entry { chunks: Buffer[]; bytes: number; at: number }

export class RecentBodies {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(private readonly clock: Clock, private readonly maxBytes = RECENT_BODIES_MAX_BYTES,
    private readonly maxAgeMs = RECENT_BODY_MAX_AGE_MS) {}

  /** Bytes held now. */
  get bytes(): number { return this.#bytes; }

  /**
   * Keeps message `id`'s prefix and body as readBody streams them. `body` must not change afterwards
   * (the caller hands over its own copy).
   */
  keep(id: string, headerPrefix: string | undefined, body: Buffer): void {
    const prefix = headerPrefix ? Buffer.from(headerPrefix, 'latin1') : null;
    const bytes = body.length + (prefix?.length ?? 0);
    if (bytes > this.maxBytes / LARGEST_SHARE) return;
    this.drop(id);
    const now = this.clock.now();
    this.#entries.set(id, { chunks: prefix ? [prefix, body] : [body], bytes, at: now });
    this.#bytes += bytes;
    for (const [old, e] of this.#entries) { // insertion order = oldest first
      if (this.#bytes <= this.maxBytes && now - e.at < this.maxAgeMs) break;
      this.drop(old);
    }
  }

  /** The chunks readBody would stream (prefix, body), or undefined when not kept (or too old). */
  chunks(id: string): readonly Buffer[] | undefined {
    const e = this.#entries.get(id);
    if (!e) return undefined;
    if (this.clock.now() - e.at >= this.maxAgeMs) {
      this.drop(id);
      return undefined;
    }
    return e.chunks;
  }

  drop(id: string): void {
    const e = this.#entries.get(id);
    if (!e) return;
    this.#entries.delete(id);
    this.#bytes -= e.bytes;
  }
}
