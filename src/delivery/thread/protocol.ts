// Messages between the main thread (client.ts) and the delivery thread (worker.ts). Each side
// posts an array of them per event-loop turn (one postMessage, one wake-up of the other side).
// Plain data only; bytes travel as Uint8Arrays whose ArrayBuffer is transferred.
import type { AttemptMessage, RecipientResult } from '../attempt.js';
import type { Verdict } from '../classify.js';
import type { SessionTarget } from '../connection-pool.js';
import type { TlsResult } from '../tls-policy.js';

/** A failure to read the queued message, as the thread re-creates it (a QueueUnavailableError when `unavailable`). */
export interface ReadFailure { message: string; code?: string; unavailable: boolean }

export type ToThread =
  /** Run one transaction. `body`: the message read whole (first readMessage); `stream`: a stream the main side opened for it. */
  | { t: 'run'; id: number; message: AttemptMessage; target: SessionTarget; maxMessages: number | null; body?: Uint8Array; stream?: number }
  | { t: 'abort'; id: number }
  /** Answer to readMessage: the bytes, or a stream (the store gave one), or why not. */
  | { t: 'body'; req: number; data?: Uint8Array; stream?: number; error?: ReadFailure }
  /** Answer to a pull: the next chunk, the end, or the stream's error. */
  | { t: 'chunk'; stream: number; data?: Uint8Array; end?: true; error?: ReadFailure }
  | { t: 'closeAll' }
  | { t: 'drain'; req: number; ms: number };

export type FromThread =
  /** A run's result; `unused`: the pool's unusedSessions of its destination after it. */
  | { t: 'done'; id: number; tls: TlsResult | null; hostFailure: Verdict | null; recipients: RecipientResult[]; nextHopDsn?: boolean; queueUnavailable?: string; unused: number }
  | { t: 'readMessage'; req: number; messageId: string }
  /** The next chunk of a stream; `open`: first pull of a readBody the thread made (stream ids < 0), open it. */
  | { t: 'pull'; stream: number; open?: string }
  | { t: 'destroy'; stream: number }
  | { t: 'closed'; destination: string; unused: number }
  | { t: 'drained'; req: number };

export interface ThreadData {
  config: { hostname: string; delivery: unknown };
  ca: string | undefined;
}
