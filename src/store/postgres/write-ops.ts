// The writing operations other than claimDue, each run by the store inside one transaction.
// Late results: recordResults only updates recipients still 'delivering' (and, when the caller
// names its lease owner, still leased to it), so a recipient deleted, released or reclaimed
// meanwhile is never resurrected or overwritten; the attempt is still kept in the history, and a
// stale reporter's DSNs are dropped.
// recordResults locks the message row first, so two nodes finishing different domains of one
// message serialize and exactly one of them sees it complete.
import type { NodeHeartbeat } from '../store.js';
import type { GeneratedMessage, NewMessage, NewUser, RecipientOutcome, RecordResultsOptions } from '../store.js';
import { durationOf, generatedMessage, hasEvents, messageData, metaOf, outcomeEvent } from '../event-mapping.js';
import { strongest, suppressedAmong, suppressedResponse, suppressionKey, type Suppression } from '../suppression-store.js';
import type { MessageMeta } from '../platform-store.js';
import { requireAccount } from './account-ops.js';
import { insertUserDomains } from './domain-ops.js';
import { ACCEPTED_EVENTS, INSERT_RECIPIENTS, RECIPIENTS_ACCEPTED, STAT_DELTAS, acceptedValues, writeEvents, type NewEvent } from './event-ops.js';
import { SUPPRESSION_COLUMNS, toSuppression, type SuppressionRow } from '../sql/suppressions.js';
import { domainOf, OpError, prepared, runPrepared, toMeta, type Conn, type MessageRow, type Prepared } from './rows.js';

const NOT_FINAL = `state NOT IN ('delivered', 'bounced', 'expired', 'suppressed')`;

// The statements every message runs (prepared once per connection: rows.ts).
/** The message row's columns, $1..$18 in this order (messageRowValues). */
const MESSAGE_INTO = `INSERT INTO queued_message (id, mail_from, return_path, size, received_at, origin, is_bounce, route, header_prefix, account, tags, metadata, stream, dsn,
                              require_tls, smtputf8, tls_optional, subject)`;
const MESSAGE_PARAMS = Array.from({ length: 18 }, (_, i) => `$${i + 1}`).join(', ');
const INSERT_MESSAGE = prepared('insert_message', `
  ${MESSAGE_INTO}
  VALUES (${MESSAGE_PARAMS})`);
/** The account's ($10) suppression entries for the keys in `keys` that stop the message's stream ($13). */
const suppressionsOf = (keys: string) =>
  `SELECT ${SUPPRESSION_COLUMNS} FROM suppression WHERE account = $10 AND address = ANY(${keys}::text[]) AND scope IN ('all', $13)`;
/** INSERT_MESSAGE, answering the account's suppression entries for $19 (suppression keys) that stop the message's stream ($13). */
const INSERT_MESSAGE_CHECKING = prepared('insert_message_checking', `
  WITH inserted AS (${INSERT_MESSAGE.text.trim()})
  ${suppressionsOf('$19')}`);
const INSERT_BODY = prepared('insert_body', 'INSERT INTO message_body (message_id, data) VALUES ($1, $2)');
const LOCK_MESSAGE = prepared('lock_message',
  'SELECT account, tags, metadata, stream, route, is_bounce FROM queued_message WHERE id = $1 FOR UPDATE');
const RECORD_OUTCOME = prepared('record_outcome', `
  UPDATE recipient SET state = $1, attempts = attempts + 1, next_attempt_at = $2, lease_owner = NULL, lease_until = NULL,
                       last_response = $3, updated_at = $4
  WHERE id = $5 AND message_id = $6 AND state = 'delivering' AND ($7::text IS NULL OR lease_owner = $7)
  RETURNING address, attempts`);
const INSERT_ATTEMPT = prepared('insert_attempt', `
  INSERT INTO attempt (message_id, rcpt_id, at, status, host, response, tls, source, remote_ip, duration_ms)
  SELECT message_id, id, $1, $2, $3, $4, $5, $8, $9, $10 FROM recipient WHERE id = $6 AND message_id = $7`);
const ANY_OPEN = prepared('any_open', `SELECT 1 FROM recipient WHERE message_id = $1 AND ${NOT_FINAL} LIMIT 1`);
const COMPLETE = prepared('complete', 'UPDATE queued_message SET completed_at = $1 WHERE id = $2 AND completed_at IS NULL');
const DELETE_BODY = prepared('delete_body', 'DELETE FROM message_body WHERE message_id = $1');

/**
 * The whole put as one statement, run on its own (no BEGIN/COMMIT: PostgreSQL commits a lone
 * statement when it ends, before answering, so it is as durable as a transaction and as atomic):
 * the message row, its recipients, its body and, for client mail, the recipients' 'accepted'
 * events with their outbox rows and statistics, in one round trip where put() makes five (BEGIN,
 * three INSERTs, COMMIT). Parameters: $1..$18 the message row (INSERT_MESSAGE), $19 addresses,
 * $20 their domains, $21 first due time, $22 now, $23 the body; checking: $24 suppression keys;
 * events: then the event data and the 6 statistics arrays. The checking form looks the account's
 * suppressions up first and, when one matches, writes nothing and answers the entries: the caller
 * then runs put() in a transaction, which marks those recipients (rare: a lookup that hits).
 * The recipients take the message's columns from the row inserted (`m`): a sibling CTE does not
 * see another's rows in the table itself.
 */
function putAloneStatement(checking: boolean, events: boolean): Prepared {
  const data = checking ? 25 : 24;
  const written = checking ? ' WHERE NOT EXISTS (SELECT 1 FROM sup)' : '';
  const parts = [
    ...(checking ? [`sup AS (${suppressionsOf('$24')})`] : []),
    `m AS (${MESSAGE_INTO}
      SELECT ${MESSAGE_PARAMS}${written}
      RETURNING id, stream, account, received_at)`,
    `rcpt AS (INSERT INTO recipient (message_id, address, domain, state, next_attempt_at, updated_at, stream, account, received_at)
      SELECT m.id, a, d, 'queued', $21, $22, m.stream, m.account, m.received_at
      FROM m CROSS JOIN unnest($19::text[], $20::text[]) WITH ORDINALITY AS r (a, d, n) ORDER BY n)`,
    `body AS (INSERT INTO message_body (message_id, data) SELECT m.id, $23 FROM m)`,
    ...(events ? [
      ACCEPTED_EVENTS({ at: '$22', account: '$10', messageId: 'm.id', addresses: '$19', data: `$${data}`, from: 'm' }),
      STAT_DELTAS(data + 1, '$10', checking ? ' WHERE EXISTS (SELECT 1 FROM m)' : ''),
    ] : []),
  ];
  const tail = checking ? `SELECT ${SUPPRESSION_COLUMNS} FROM sup` : 'SELECT 1';
  return prepared(`put_alone${checking ? '_checking' : ''}${events ? '_events' : ''}`, `WITH ${parts.join(',\n  ')}\n  ${tail}`);
}
const PUT_ALONE = [putAloneStatement(false, false), putAloneStatement(false, true), putAloneStatement(true, false), putAloneStatement(true, true)];

/**
 * put() as one statement outside a transaction (PUT_ALONE): for a message without recipients
 * suppressed beforehand (`m.suppressed`). checking: the suppression lookup of
 * putCheckingSuppressions too; then null means it matched and nothing was written (run
 * putCheckingSuppressions in a transaction); otherwise the (empty) entries found.
 */
export async function putAlone(c: Conn, m: NewMessage, now: number, body: Buffer, checking: boolean): Promise<Map<string, Suppression> | null> {
  const refused = putAloneRefusal(m);
  if (refused) throw refused;
  const meta = metaOf(m);
  const events = hasEvents(m);
  const values: unknown[] = [...messageRowValues(m, meta),
    m.recipients, m.recipients.map(domainOf), m.notBefore ?? m.receivedAt, now, body];
  if (checking) values.push([...new Set(m.recipients.map(suppressionKey))]);
  if (events) values.push(...acceptedValues(meta.account, m.recipients, messageData(meta), now).slice(1));
  const { rows } = await runPrepared<SuppressionRow>(c, PUT_ALONE[(checking ? 2 : 0) + (events ? 1 : 0)]!, values);
  if (!checking) return new Map();
  return rows.length > 0 ? null : new Map();
}

/** Why putAlone would refuse `m` before sending anything (an OpError), or null: checked before a put joins a batch. */
export function putAloneRefusal(m: NewMessage): OpError | null {
  if (m.recipients.length === 0) return new OpError('write', 'message has no recipients');
  if (m.suppressed?.length) return new OpError('write', 'putAlone: a message with suppressed recipients takes put()');
  return null;
}

/** One put of a batch (putAloneBatch): the message, its finished body, and whether it is putAlone's checking form. */
export interface BatchedPut { m: NewMessage; body: Buffer; checking: boolean }

/** What a batch did: `committed` false, nothing of it was written; true, each fulfilled answer was (a rejected one was not). */
export interface BatchOutcome { committed: boolean; answers: PromiseSettledResult<Map<string, Suppression> | null>[] }

/** The parts of pg's Client a batch writes through: its socket, corked while the statements are queued. */
interface PipelinedConn { connection: { stream: { cork(): void; uncork(): void } } }

/**
 * Several putAlone statements in one transaction, written to the server at once: BEGIN, one
 * statement per message, COMMIT, queued on a connection in pg's pipeline mode (the caller's pool
 * is made with `pipeline: true`) while its socket is corked, so the batch costs one write, one
 * round trip and one commit where each put alone costs its own (bench/README.md, fourteenth
 * session). Each answer is putAlone's (checking: null when that message's suppression lookup
 * matched and nothing of it was written). A failed statement aborts the transaction and COMMIT
 * answers ROLLBACK: nothing is written (`committed` false); so too when pg could not bind one
 * statement's values (it closes the shared prepared statement, and the later ones fail); so too
 * when putAlone refuses one (putAloneRefusal: the caller refuses those before batching). Throws
 * (CommitUnknown) when COMMIT's answer did not come (the connection
 * failed, before or after COMMIT left): whether the batch committed is unknown, as for a lone put
 * whose answer is lost, for every message of the batch.
 */
export async function putAloneBatch(c: Conn, puts: BatchedPut[], now: number): Promise<BatchOutcome> {
  const stream = (c as unknown as PipelinedConn).connection.stream;
  // pg queues each query and reports every failure, a client no longer queryable included, by
  // rejecting its promise (putAlone is async): nothing here throws while the socket is corked.
  let begin: Promise<unknown>, answers: Promise<Map<string, Suppression> | null>[], commit: Promise<{ command: string }>;
  stream.cork();
  try {
    begin = c.query('BEGIN');
    answers = puts.map((p) => putAlone(c, p.m, now, p.body, p.checking));
    commit = c.query('COMMIT');
  } finally {
    stream.uncork();
  }
  const [, settled, done] = await Promise.all([begin.catch(() => undefined), Promise.allSettled(answers),
    commit.catch((err: unknown) => { throw new CommitUnknown(err); })]);
  // Without BEGIN (it failed) each statement committed on its own, and COMMIT answers COMMIT (a warning): the same reading.
  return { committed: done.command === 'COMMIT', answers: settled };
}

/** A batch's COMMIT was sent and its answer lost (`cause`: the connection's error): committed or not, unknown. */
export class CommitUnknown extends Error {
  constructor(override readonly cause: unknown) { super('the answer to a batch\'s COMMIT was lost'); }
}

/** The message row's values, $1..$18 of MESSAGE_INTO. */
function messageRowValues(m: NewMessage, meta: MessageMeta): unknown[] {
  return [m.id, m.mailFrom, m.returnPath ?? null, m.size, m.receivedAt, JSON.stringify(m.origin), m.isBounce, m.route, m.headerPrefix || null,
    meta.account, JSON.stringify(meta.tags), JSON.stringify(meta.metadata), meta.stream, m.dsn ? JSON.stringify(m.dsn) : null,
    m.transport?.requireTls === true, m.transport?.smtpUtf8 === true, m.transport?.tlsOptional === true, m.subject ?? null];
}

/** `insertMessage`: runs the message row's INSERT instead of INSERT_MESSAGE, and may name recipients suppressed at acceptance. */
export async function put(c: Conn, m: NewMessage, now: number, body: Buffer,
  insertMessage?: (values: unknown[]) => Promise<NewMessage['suppressed']>): Promise<void> {
  if (m.recipients.length === 0) throw new OpError('write', 'message has no recipients');
  const meta = metaOf(m);
  const values = messageRowValues(m, meta);
  const suppressed = insertMessage ? await insertMessage(values) : (await runPrepared(c, INSERT_MESSAGE, values), m.suppressed);
  const rcpts = [m.id, m.recipients, m.recipients.map(domainOf), m.notBefore ?? m.receivedAt, now];
  // Client mail: the recipients and their 'accepted' events (and outbox rows) in one statement.
  if (hasEvents(m)) await runPrepared(c, RECIPIENTS_ACCEPTED, [...rcpts, ...acceptedValues(meta.account, m.recipients, messageData(meta), now)]);
  else await runPrepared(c, INSERT_RECIPIENTS, rcpts);
  await runPrepared(c, INSERT_BODY, [m.id, body]);
  if (suppressed?.length) await suppressAtAcceptance(c, { ...m, suppressed }, meta, now);
}

/**
 * put, the recipients on the account's suppression list (the message's stream) looked up in the
 * same transaction and stored 'suppressed'; returns their entries by suppressionKey. The lookup is
 * the message row's INSERT statement itself (INSERT_MESSAGE_CHECKING): no round trip of its own.
 */
export async function putCheckingSuppressions(c: Conn, m: NewMessage, now: number, body: Buffer): Promise<Map<string, Suppression>> {
  if (m.suppressed) throw new OpError('write', 'putCheckingSuppressions: suppressed is looked up here, not given');
  let found = new Map<string, Suppression>();
  await put(c, m, now, body, async (values) => {
    const { rows } = await runPrepared<SuppressionRow>(c, INSERT_MESSAGE_CHECKING, [...values, [...new Set(m.recipients.map(suppressionKey))]]);
    found = strongest(rows.map(toSuppression));
    return found.size > 0 ? suppressedAmong(m.recipients, found) : undefined;
  });
  return found;
}

/** Recipients suppressed at acceptance: final at once, with their events; the message completes if none is left. */
async function suppressAtAcceptance(c: Conn, m: NewMessage, meta: MessageMeta, now: number): Promise<void> {
  const events: NewEvent[] = [];
  for (const s of m.suppressed!) {
    const response = suppressedResponse(s.suppression);
    const { rows } = await c.query<{ id: number; address: string }>(
      `UPDATE recipient SET state = 'suppressed', next_attempt_at = NULL, last_response = $1, updated_at = $2
       WHERE message_id = $3 AND address = $4 AND state = 'queued' RETURNING id, address`, [response, now, m.id, s.address]);
    for (const row of rows) {
      const o = { rcptId: row.id, status: 'suppressed' as const, response, suppression: s.suppression };
      if (hasEvents(m)) events.push({ at: now, messageId: m.id, recipient: row.address, ...outcomeEvent(o, 0, messageData(meta)) });
    }
  }
  await writeEvents(c, meta.account, events);
  await completeIfFinal(c, m.id, now);
}

export async function recordResults(
  c: Conn, messageId: string, outcomes: RecipientOutcome[], generated: { g: GeneratedMessage; body: Buffer }[],
  opts: RecordResultsOptions, now: number,
): Promise<void> {
  const locked = await runPrepared<Pick<MessageRow, 'account' | 'tags' | 'metadata' | 'stream' | 'route' | 'is_bounce'>>(c, LOCK_MESSAGE, [messageId]);
  const msg = locked.rows[0];
  if (!msg) return; // deleted meanwhile: a no-op, and its DSNs are not stored
  const owner = opts.owner ?? null;
  const meta = toMeta(msg);
  const base = messageData(meta);
  const withEvents = hasEvents({ route: msg.route, isBounce: msg.is_bounce });
  const events: NewEvent[] = [];
  let updated = 0;
  for (const o of outcomes) {
    const next = o.status === 'deferred' ? o.nextAttemptAt : null;
    const row = (await runPrepared<{ address: string; attempts: number }>(c, RECORD_OUTCOME, [o.status, next, o.response, now, o.rcptId, messageId, owner])).rows[0];
    await runPrepared(c, INSERT_ATTEMPT, [now, o.status, o.host ?? null, o.response, o.tls ? JSON.stringify(o.tls) : null, o.rcptId, messageId, o.source ?? null, o.remoteIp ?? null, durationOf(o, opts.durationMs)]);
    if (!row) continue;
    updated++;
    if (withEvents) events.push({ at: now, messageId, recipient: row.address, ...outcomeEvent(o, row.attempts, base) });
  }
  // Our lease was lost (reclaimed, released or held meanwhile): the new owner reports, and a DSN
  // from us would be a duplicate. Keep only the attempt history.
  if (updated === 0 && outcomes.length > 0) return;
  await writeEvents(c, meta.account, events);
  if (opts.delayNotified) await c.query('UPDATE queued_message SET delay_notified = true WHERE id = $1', [messageId]);
  for (const { g, body } of generated) await put(c, generatedMessage(g.message, meta), now, body);
  await completeIfFinal(c, messageId, now);
}


/** One recordResults of a batch (recordResultsBatch). */
export interface BatchedResult { messageId: string; outcomes: RecipientOutcome[]; generated: { g: GeneratedMessage; body: Buffer }[]; opts: RecordResultsOptions }

/**
 * Several recordResults in one transaction, their statements pipelined on one connection (a pool
 * made with `pipeline: true`): BEGIN and every job's first statement (its message row's lock) are
 * written at once, in the order given (the caller sorts by message id, so two nodes' batches lock
 * messages in one order), then each job sends its next statement when its previous answer comes,
 * interleaved with the others'; one COMMIT for all (group commit: one commit, one flush, and the
 * jobs' round trips overlap). Each job runs exactly the statements recordResults runs alone, in the
 * same transaction semantics (READ COMMITTED: each statement sees what committed before it, and
 * what earlier statements of this transaction wrote). The caller gives each message at most once.
 * Answers true when the batch committed whole; false when a job failed (the transaction is rolled
 * back, nothing of it was written: the caller runs each job alone, so only a job at fault fails).
 * Throws CommitUnknown when COMMIT's (or BEGIN's) answer did not come.
 */
export async function recordResultsBatch(c: Conn, jobs: BatchedResult[], now: number): Promise<boolean> {
  const stream = (c as unknown as PipelinedConn).connection.stream;
  let begin: Promise<unknown>, runs: Promise<void>[];
  stream.cork();
  try {
    begin = c.query('BEGIN');
    runs = jobs.map((j) => recordResults(c, j.messageId, j.outcomes, j.generated, j.opts, now));
  } finally {
    stream.uncork();
  }
  const [began, settled] = await Promise.all([begin.then(() => true, (err: unknown) => err), Promise.allSettled(runs)]);
  // Without BEGIN each statement would have committed on its own: only a lost connection fails BEGIN.
  if (began !== true) throw new CommitUnknown(began);
  if (settled.some((s) => s.status === 'rejected')) {
    await c.query('ROLLBACK').catch(() => undefined);
    return false;
  }
  const done = await c.query('COMMIT').catch((err: unknown) => { throw new CommitUnknown(err); });
  return (done as { command: string }).command === 'COMMIT';
}

/** Stamps completed_at once every recipient is final, and deletes the body with it. */
async function completeIfFinal(c: Conn, messageId: string, now: number): Promise<void> {
  const open = await runPrepared(c, ANY_OPEN, [messageId]);
  if ((open.rowCount ?? 0) > 0) return;
  const r = await runPrepared(c, COMPLETE, [now, messageId]);
  if ((r.rowCount ?? 0) > 0) await runPrepared(c, DELETE_BODY, [messageId]);
}

export async function releaseLeases(c: Conn, owner: string | null, now: number): Promise<number> {
  const r = await c.query(`UPDATE recipient SET state = 'queued', next_attempt_at = $1, lease_owner = NULL, lease_until = NULL, updated_at = $1
                           WHERE state = 'delivering' AND ($2::text IS NULL OR lease_owner = $2)`, [now, owner]);
  return r.rowCount ?? 0;
}

export async function retry(c: Conn, id: string | null, now: number): Promise<number> {
  const r = await c.query(`UPDATE recipient SET next_attempt_at = $1, updated_at = $1
                           WHERE state IN ('queued', 'deferred') AND ($2::text IS NULL OR message_id = $2)`, [now, id]);
  return r.rowCount ?? 0;
}

/** Holds waiting (queued/deferred) recipients; ones being delivered right now are not held. */
export async function hold(c: Conn, id: string, now: number): Promise<number> {
  const r = await c.query(`UPDATE recipient SET state = 'held', next_attempt_at = NULL, updated_at = $1
                           WHERE message_id = $2 AND state IN ('queued', 'deferred')`, [now, id]);
  return r.rowCount ?? 0;
}

export async function release(c: Conn, id: string, now: number): Promise<number> {
  // Held by a breaker too (the operator overrides it; a claim holds it again while the breaker is open).
  const r = await c.query(`UPDATE recipient SET state = 'queued', next_attempt_at = $1, updated_at = $1, breaker_id = NULL,
                             held_ms = held_ms + CASE WHEN breaker_id IS NULL THEN 0 ELSE $1 - updated_at END
                           WHERE message_id = $2 AND state = 'held'`, [now, id]);
  return r.rowCount ?? 0;
}

/** Deletes the message; recipients, attempts and body cascade. */
export async function deleteMessage(c: Conn, id: string): Promise<boolean> {
  return ((await c.query('DELETE FROM queued_message WHERE id = $1', [id])).rowCount ?? 0) > 0;
}

/** Deletes finished messages (completed_at < before) with their recipients and history. */
export async function purgeFinished(c: Conn, before: number): Promise<number> {
  const r = await c.query('DELETE FROM queued_message WHERE completed_at IS NOT NULL AND completed_at < $1', [before]);
  return r.rowCount ?? 0;
}

export async function addUser(c: Conn, u: NewUser): Promise<void> {
  const account = u.account ?? 'default';
  await requireAccount(c, account);
  const r = await c.query(`INSERT INTO smtp_user (name, password_hash, created_at, any_domain, account, limits, default_stream)
                           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING`,
  [u.name, u.passwordHash, u.createdAt, !!u.anyDomain, account, JSON.stringify(u.limits ?? {}), u.defaultStream ?? 'transactional']);
  if (r.rowCount === 0) throw new OpError('user-exists', `user ${u.name} already exists`);
  await insertUserDomains(c, u.name, u.allowedDomains ?? []);
}

export async function removeUser(c: Conn, name: string): Promise<boolean> {
  return ((await c.query('DELETE FROM smtp_user WHERE name = $1', [name])).rowCount ?? 0) > 0;
}

export async function recordHeartbeat(c: Conn, h: NodeHeartbeat): Promise<void> {
  await c.query(`INSERT INTO relay_node (node_id, started_at, last_seen_at, in_flight) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (node_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, in_flight = excluded.in_flight`,
  [h.nodeId, h.startedAt, h.lastSeenAt, h.inFlight]);
}
