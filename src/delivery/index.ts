// Public API of the delivery stage (stage 3): the scheduler main.ts starts and stops, and the
// resolver factory. Everything else in delivery/ is internal to the stage.
export { DeliveryScheduler, type DeliverySchedulerOptions } from './scheduler.js';
export { createResolver, type MxResolver, type MxRecord } from './resolver.js';
