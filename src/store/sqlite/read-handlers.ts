// Every read op's handler (one copy of the logic, run by the executor on the main thread and by the
// heavy-read thread, reader-thread.ts), and which read ops are heavy: their cost grows with the
// queue or the history (listings, searches, aggregates for the API, the dashboard and the CLI), so
// they run off the main thread, where they would hold every SMTP session and delivery while they
// run (docs/design/store.md, "The heavy reads' thread"). Point reads, and every read the SMTP
// path, delivery or the event pipeline make per message, stay on the main thread.
import { ACCOUNT_READS } from './account-ops.js';
import { BREAKER_READS } from './breaker-ops.js';
import { DASHBOARD_READS } from './dashboard-ops.js';
import { DOMAIN_READS } from './domain-ops.js';
import { EVENT_READS } from './event-ops.js';
import type { ReadOp } from './protocol.js';
import { QUEUE_DEPTH_READS } from './queue-depth-ops.js';
import { QUEUE_OVERVIEW_READS } from './queue-overview-ops.js';
import * as reads from './read-ops.js';
import type { Db } from './rows.js';
import { SHAPING_READS } from './shaping-ops.js';
import { SOURCE_READS } from './source-ops.js';
import { STATS_READS } from './stats-ops.js';
import { SECRET_READS, SUPPRESSION_READS } from './suppression-ops.js';
import { TLS_REPORT_READS } from './tls-report-ops.js';
import { WEBHOOK_READS } from './webhook-ops.js';

export type ReadHandler = (db: Db, ...args: never[]) => unknown;

export const READ_HANDLERS: Record<ReadOp, ReadHandler> = { ...reads, ...DOMAIN_READS, ...ACCOUNT_READS, ...EVENT_READS, ...WEBHOOK_READS, ...SUPPRESSION_READS, ...STATS_READS, ...SECRET_READS, ...BREAKER_READS, ...TLS_REPORT_READS, ...SOURCE_READS, ...SHAPING_READS, ...DASHBOARD_READS, ...QUEUE_OVERVIEW_READS, ...QUEUE_DEPTH_READS };

/**
 * The heavy reads, each with its measured cost on 100,000 deferred recipients and 1,000,000 events
 * (bench/main-thread-reads.ts, bench/README.md twenty-third session) and who makes it. Every other
 * read op is a point read or reads a small configuration table (users, domains, keys, accounts,
 * webhooks, breakers, sources, suspensions, dashboard sessions, quota counters) and stays. So does
 * readTlsOutcomes, though it reads a whole day of TLS outcomes (a row per destination domain, MX,
 * IP and result; on the primary key's day prefix): the TLS reporter makes it at every start and
 * every 10 minutes (tlsrpt/reporter.ts), so on the thread it would start it on every relay, nobody
 * asking (seen in a harness run: 12 threads instead of 11 from the start). And queueDepth, which
 * /metrics reads on every scrape: it reads the queue counters and the recipients in flight only,
 * never the history, so a Prometheus scrape every 15 s never keeps the thread alive.
 */
const HEAVY: ReadonlySet<ReadOp> = new Set<ReadOp>([
  'listRecipients', // the CLI's queue listing, the providers view (100,000 rows): 50 ms for 1,000 with finished ones
  // the CLI (queue stats, cluster status) and /metrics' finished states, at most every 5 minutes: queue_count's rows per
  // account, domain and state, plus every finished recipient kept (recipient_state). A scrape's waiting and delivering
  // states are queueDepth's, which is not here: the counters and the recipients in flight only (queue-depth-ops.ts).
  'counts',
  'listEvents', // the events API, webhook replay, address verification: ~180 ms filtered by type and time or by recipient
  'searchMessages', // the messages API and the dashboard: ~35 ms by subject or sender
  'readStats', // the stats API and the dashboard: grows with the counters' history
  'queueOverview', // the dashboard's queue page: ~22 ms
  'listSuppressions', // the suppressions API and CSV export (up to 1,000 a page)
  'listTlsReports', // the CLI
]);

/**
 * Whether a read runs on the heavy-read thread. A message's own events (tracking of opens and
 * clicks, inbound reports, the message timeline: listEvents with messageId, on event_message) and
 * one address's suppressions (address verification: listSuppressions with address) are point
 * reads and stay on the main thread.
 */
export function isHeavyRead(op: ReadOp, args: readonly unknown[]): boolean {
  if (!HEAVY.has(op)) return false;
  if (op === 'listEvents') return (args[0] as { messageId?: string } | undefined)?.messageId === undefined;
  if (op === 'listSuppressions') return !(args[0] as { address?: string } | undefined)?.address;
  return true;
}
