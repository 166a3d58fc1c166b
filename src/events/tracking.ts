// Owns recording opens and clicks (the fetches of the tracking pixel and redirect links,
// events/tracking-token.ts): one 'opened' or 'clicked' event through store.appendEvents, so the
// statistics counters (store/event-effects.ts: opened, opened_unique, opened_machine, …) and the
// webhooks follow in the same commit. The event carries the message's tags/metadata/stream, the
// client address and user agent, unique: true for the first of its type for that message and
// recipient among human fetches, or among machine ones (looked up in the event log), and
// machine: true with the matching rule
// (events/machine-agents.ts) when the fetch is recognisably automated. Fetches of one
// message/recipient/type are recorded one at a time on a node, so only one of them is unique.
import type { Clock } from '../clock.js';
import { messageData } from '../store/event-mapping.js';
import type { MessageEvent } from '../store/platform-store.js';
import type { QueueStore } from '../store/store.js';
import { machineAgent } from './machine-agents.js';
import type { TrackingRef } from './tracking-token.js';

export type TrackingStore = Pick<QueueStore, 'getMessageMeta' | 'listEvents' | 'appendEvents'>;

export interface TrackingFetch { ip: string; userAgent: string | null }

/** Longest user agent kept in an event. */
const MAX_USER_AGENT = 512;

export class TrackingRecorder {
  readonly #inFlight = new Map<string, Promise<unknown>>();
  constructor(private readonly store: TrackingStore, private readonly clock: Clock) {}

  /** Records one open or click; resolves with the event written. */
  record(ref: TrackingRef, fetch: TrackingFetch): Promise<MessageEvent> {
    const key = `${ref.kind}\u0000${ref.messageId}\u0000${ref.recipient.toLowerCase()}`;
    const before = this.#inFlight.get(key) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(() => this.#write(ref, fetch));
    this.#inFlight.set(key, mine);
    const forget = () => { if (this.#inFlight.get(key) === mine) this.#inFlight.delete(key); };
    mine.then(forget, forget);
    return mine;
  }

  async #write(ref: TrackingRef, fetch: TrackingFetch): Promise<MessageEvent> {
    const type = ref.kind === 'open' ? 'opened' : 'clicked';
    const [meta, earlier] = await Promise.all([
      this.store.getMessageMeta(ref.messageId),
      this.store.listEvents({ account: ref.account, messageId: ref.messageId, recipient: ref.recipient, types: [type, 'delivered'], limit: 1000 }),
    ]);
    const at = this.clock.now();
    const delivered = earlier.find((e) => e.type === 'delivered');
    const userAgent = fetch.userAgent === null ? null : fetch.userAgent.slice(0, MAX_USER_AGENT);
    const agent = machineAgent({ kind: ref.kind, userAgent, msSinceDelivery: delivered ? at - delivered.at : null });
    const base = meta && meta.account === ref.account ? messageData(meta) : {};
    const [event] = await this.store.appendEvents([{
      at, account: ref.account, type, messageId: ref.messageId, recipient: ref.recipient,
      data: {
        ...base, ...(ref.kind === 'click' ? { url: ref.url } : {}), ip: fetch.ip, userAgent,
        // Unique among its kind: the reader's first open counts even after Apple's proxy fetched the pixel.
        unique: !earlier.some((e) => e.type === type && (e.data.machine === true) === (agent !== null)), machine: agent !== null, agent,
      },
    }]);
    return event!;
  }
}
