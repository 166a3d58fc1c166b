// The outbound SMTP side of delivery, as the scheduler sees it: something that runs one
// transaction (SmtpAttempt's run: plain data in, plain data out) over sessions it keeps per
// destination, and the few facts about those sessions the scheduler's destination slots need.
// Two implementations: in this thread (a ConnectionPool and SmtpAttempt, what unit tests use), and
// off the main thread (thread/client.ts: what a relay started by main.ts uses; hosted by the SQLite
// store's thread, or on a thread of its own), so the main thread answers the SMTP sessions of
// ingress without waiting behind delivery's sockets.
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../events/log.js';
import type { QueueStore } from '../store/store.js';
import { SmtpAttempt } from './attempt.js';
import { ConnectionPool } from './connection-pool.js';

export interface Outbound {
  readonly attempt: Pick<SmtpAttempt, 'run'>;
  /** Sessions of `destination` not handed out (idle, or closing until their socket closed): ConnectionPool.unusedSessions. */
  unusedSessions(destination: string): number;
  /** Close every idle session; later releases close immediately. */
  closeAll(): void;
  /** Wait (at most ms) until every connection has closed. */
  drain(ms: number): Promise<void>;
  /** Release what the side holds (the thread), after drain. */
  close(): Promise<void>;
}

export interface OutboundHooks {
  config: Readonly<Config>;
  /** PEM bundle (delivery.tlsCaFile's contents). */
  ca: string | undefined;
  clock: Clock;
  store: Pick<QueueStore, 'readMessage' | 'readBody' | 'hostDeliveryThread'>;
  logger: Logger;
  /** A session of this destination has closed: a slot may be free. */
  onSessionClosed: (destination: string) => void;
  /** Messages per session for a destination (a shaped provider's); null: delivery.maxMessagesPerConnection. */
  maxMessagesOf: (destination: string) => number | null;
}

export type OutboundFactory = (hooks: OutboundHooks) => Outbound;

/** The outbound side in this thread. */
export const inProcessOutbound: OutboundFactory = (h) => {
  const pool = new ConnectionPool({ config: h.config, clock: h.clock, ca: h.ca, onSessionClosed: h.onSessionClosed, maxMessagesOf: h.maxMessagesOf });
  return {
    attempt: new SmtpAttempt({ pool, store: h.store }),
    unusedSessions: (d) => pool.unusedSessions(d),
    closeAll: () => pool.closeAll(),
    drain: (ms) => pool.drain(ms),
    close: async () => undefined,
  };
};
