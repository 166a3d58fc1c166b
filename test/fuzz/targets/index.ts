// Every fuzz target, with the size of its bounded run in `npm test` (about two seconds each on the
// shared 2-core machine; the long run in bench/fuzz.ts does at least a million of each).
import type { FuzzTarget } from '../harness.js';
import { addressTarget } from './address.js';
import { apiTarget } from './api-json.js';
import { configTarget } from './config.js';
import { dataReaderTarget } from './data-reader.js';
import { proxyTarget } from './proxy-protocol.js';
import { reportsTarget } from './reports.js';
import { sessionTarget } from './session.js';

export interface TargetEntry { target: FuzzTarget<any>; short: { propertyRuns: number; mutationRuns: number } }

export const TARGETS: TargetEntry[] = [
  { target: dataReaderTarget, short: { propertyRuns: 1500, mutationRuns: 3000 } },
  { target: addressTarget, short: { propertyRuns: 5000, mutationRuns: 5000 } },
  { target: proxyTarget, short: { propertyRuns: 4000, mutationRuns: 5000 } },
  { target: sessionTarget, short: { propertyRuns: 1500, mutationRuns: 2000 } },
  { target: apiTarget, short: { propertyRuns: 1000, mutationRuns: 1500 } },
  { target: reportsTarget, short: { propertyRuns: 1000, mutationRuns: 1000 } },
  { target: configTarget, short: { propertyRuns: 1000, mutationRuns: 1500 } },
];
