// Time as a dependency: everything that schedules takes a Clock, so tests never sleep on wall time.
export interface Clock { now(): number }
export const systemClock: Clock = { now: () => Date.now() };
