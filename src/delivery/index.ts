// Public API of the delivery stage (stage 3): the scheduler main.ts starts and stops, and the
// resolver factory, and the mail-host lookups address verification shares with route.ts.
// Everything else in delivery/ is internal to the stage.
export { DeliveryScheduler, type DeliverySchedulerOptions } from './scheduler.js';
export { createResolver, type MxResolver, type MxRecord } from './resolver.js';
// The MX / implicit MX / null MX lookups, for address verification (src/verify/).
export { lookupMailHosts, resolveHostAddresses, orderByPreference, normalizeHost, mxAddressAllowed, type MailHostLookup } from './route.js';
// The per-provider view of the queue (CLI and API).
export { listByProvider, type ProviderRow } from './provider-queue.js';
export type { ThrottleView } from './shaper.js';
// Egress sources: the start-time checks (bind address, PTR) and the checks `postlane sources check` runs.
export { checkSourcesAtStart, checkPtr, bindProblem, createSourceDns, type PtrResult } from './source-check.js';
export { Egress, mergeSources, poolOf, type EgressSource } from './egress.js';
export { listSourceViews, addSource, setSourceState, type SourceView, type NewSourceInput } from './source-admin.js';
