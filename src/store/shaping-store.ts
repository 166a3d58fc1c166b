// The traffic-shaping part of the store interface (issue 11): provider suspensions shared by every
// node on one database, so a provider that told one node to slow down is left alone by all of them
// until the suspension ends. The shaper (delivery/shaper.ts) writes one when it suspends a provider
// and the scheduler reads the current ones every few seconds; `postlane queue list --by provider`
// shows them. Keyed by (provider, egress source); a later end wins.
export interface ProviderSuspension {
  provider: string;
  source: string;
  /** ms: suspended until then. */
  until: number;
  /** The throttle action's name (throttle-actions.ts), e.g. "gmail-rate-limited". */
  reason: string;
  /** When it was recorded (ms). */
  at: number;
}

export interface ShapingStore {
  /** Records a suspension; an existing one of the provider and source is kept if it ends later. */
  recordSuspension(s: ProviderSuspension): Promise<void>;
  /** Suspensions still running at `now`, by provider and source. */
  listSuspensions(now: number): Promise<ProviderSuspension[]>;
}
