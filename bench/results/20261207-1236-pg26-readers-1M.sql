\timing off
\echo '## counts()'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT state, count(*)::int AS n FROM recipient GROUP BY state;
\echo '## nextDueAt (old statement)'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT next_attempt_at AS t FROM recipient WHERE state IN ('queued', 'deferred') ORDER BY next_attempt_at LIMIT 1;
\echo '## nextDueAt (new statement)'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT LEAST((SELECT next_attempt_at FROM recipient WHERE stream = 'transactional' AND state IN ('queued', 'deferred') ORDER BY next_attempt_at LIMIT 1), (SELECT next_attempt_at FROM recipient WHERE stream = 'broadcast' AND state IN ('queued', 'deferred') ORDER BY next_attempt_at LIMIT 1)) AS t;
\echo '## listRecipients state=deferred'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT r.*, m.mail_from, m.received_at, m.size FROM recipient r JOIN queued_message m ON m.id = r.message_id WHERE m.completed_at IS NULL AND r.state = 'deferred' ORDER BY m.received_at, m.id COLLATE "C", r.id LIMIT 1000;
\echo '## listRecipients state=held'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT r.*, m.mail_from, m.received_at, m.size FROM recipient r JOIN queued_message m ON m.id = r.message_id WHERE m.completed_at IS NULL AND r.state = 'held' ORDER BY m.received_at, m.id COLLATE "C", r.id LIMIT 1000;
\echo '## listRecipients state=delivering'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT r.*, m.mail_from, m.received_at, m.size FROM recipient r JOIN queued_message m ON m.id = r.message_id WHERE m.completed_at IS NULL AND r.state = 'delivering' ORDER BY m.received_at, m.id COLLATE "C", r.id LIMIT 1000;
\echo '## listRecipients state=delivered (final)'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT r.*, m.mail_from, m.received_at, m.size FROM recipient r JOIN queued_message m ON m.id = r.message_id WHERE r.state = 'delivered' ORDER BY m.received_at, m.id COLLATE "C", r.id LIMIT 1000;
\echo '## listRecipients default (not final)'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT r.*, m.mail_from, m.received_at, m.size FROM recipient r JOIN queued_message m ON m.id = r.message_id WHERE m.completed_at IS NULL AND r.state NOT IN ('delivered', 'bounced', 'expired', 'suppressed') ORDER BY m.received_at, m.id COLLATE "C", r.id LIMIT 1000;
\echo '## dashboard delivering count'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT count(*) AS n FROM (SELECT 1 FROM recipient WHERE state = 'delivering' AND account = 'acct3' LIMIT 1) AS d;
\echo '## dashboard BY_DELIVERING ids'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT r.message_id FROM recipient r WHERE r.state = 'delivering' AND r.account = 'acct3';
\echo '## claim_waiting_transactional'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT r.message_id, r.domain, m.account, m.mail_from, m.stream, r.next_attempt_at AS due_at FROM recipient r JOIN queued_message m ON m.id = r.message_id WHERE r.stream = 'transactional' AND r.state IN ('queued', 'deferred') AND r.next_attempt_at <= 1770000500000 AND NOT (r.domain = ANY('{}'::text[])) ORDER BY r.next_attempt_at LIMIT 1600;
\echo '## claim_expired'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) SELECT r.message_id, r.domain, m.account, m.mail_from, m.stream, r.lease_until AS due_at FROM recipient r JOIN queued_message m ON m.id = r.message_id WHERE r.state = 'delivering' AND r.lease_until < 1770000000500 AND NOT (r.domain = ANY('{}'::text[])) ORDER BY r.lease_until LIMIT 1600;
\echo '## suppress at put (message, address, queued)'
BEGIN; EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) UPDATE recipient SET state = 'suppressed', next_attempt_at = NULL, last_response = 'x', updated_at = 1 WHERE message_id = 'm00000051' AND address = 'user51@d51.example' AND state = 'queued' RETURNING id, address; ROLLBACK;
\echo '## retry all (message NULL)'
BEGIN; EXPLAIN (COSTS OFF) UPDATE recipient SET next_attempt_at = 1 WHERE state IN ('queued', 'deferred') AND (NULL::text IS NULL OR message_id = NULL::text); ROLLBACK;
\echo '## retry one message'
BEGIN; EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) UPDATE recipient SET next_attempt_at = 1 WHERE state IN ('queued', 'deferred') AND ('m00000051'::text IS NULL OR message_id = 'm00000051'::text); ROLLBACK;
\echo '## releaseLeases(owner)'
BEGIN; EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) UPDATE recipient SET state = 'queued', next_attempt_at = 1, lease_owner = NULL, lease_until = NULL, updated_at = 1 WHERE state = 'delivering' AND ('node-2'::text IS NULL OR lease_owner = 'node-2'::text); ROLLBACK;
\echo '## hold message'
BEGIN; EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) UPDATE recipient SET state = 'held', next_attempt_at = NULL, updated_at = 1 WHERE message_id = 'm00000051' AND state IN ('queued', 'deferred'); ROLLBACK;
