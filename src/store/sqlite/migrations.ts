// The SQLite schema as ordered, versioned migrations (PRAGMA user_version). Kept in TypeScript
// because tsc does not copy .sql files. Never edit a released migration; append a new one.
import type Database from 'better-sqlite3';

export const MIGRATIONS: readonly { version: number; sql: string; rebuild?: boolean }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE queued_message (
        id             TEXT PRIMARY KEY,
        mail_from      TEXT NOT NULL,
        size           INTEGER NOT NULL,
        received_at    INTEGER NOT NULL,
        origin         TEXT NOT NULL,            -- JSON: { listener, clientIp, user }
        is_bounce      INTEGER NOT NULL,
        route          TEXT NOT NULL CHECK (route IN ('relay', 'local')),
        delay_notified INTEGER NOT NULL DEFAULT 0,
        completed_at   INTEGER                   -- set when every recipient is final
      ) STRICT;
      CREATE INDEX queued_message_open ON queued_message (received_at, id) WHERE completed_at IS NULL;
      CREATE INDEX queued_message_completed ON queued_message (completed_at) WHERE completed_at IS NOT NULL;

      CREATE TABLE recipient (
        id              INTEGER PRIMARY KEY,
        message_id      TEXT NOT NULL REFERENCES queued_message (id) ON DELETE CASCADE,
        address         TEXT NOT NULL,
        domain          TEXT NOT NULL,           -- lower-case, the part after the last @
        state           TEXT NOT NULL CHECK (state IN
                          ('queued', 'deferred', 'delivering', 'held', 'delivered', 'bounced', 'expired')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        lease_owner     TEXT,
        lease_until     INTEGER,
        last_response   TEXT,
        updated_at      INTEGER NOT NULL
      ) STRICT;
      -- claimDue and nextDueAt walk these two in due order (named with INDEXED BY: without
      -- ANALYZE statistics the planner would pick recipient_state and sort the whole backlog).
      -- Partial, so they hold only waiting/leased rows, never the retained finished ones.
      CREATE INDEX recipient_due ON recipient (next_attempt_at) WHERE state IN ('queued', 'deferred');
      CREATE INDEX recipient_lease ON recipient (lease_until) WHERE state = 'delivering';
      CREATE INDEX recipient_message ON recipient (message_id, domain);
      CREATE INDEX recipient_state ON recipient (state);

      CREATE TABLE attempt (
        id         INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL REFERENCES queued_message (id) ON DELETE CASCADE,
        rcpt_id    INTEGER NOT NULL REFERENCES recipient (id) ON DELETE CASCADE,
        at         INTEGER NOT NULL,
        status     TEXT NOT NULL,
        host       TEXT,
        response   TEXT NOT NULL
      ) STRICT;
      CREATE INDEX attempt_message ON attempt (message_id, at);
      CREATE INDEX attempt_rcpt ON attempt (rcpt_id);

      CREATE TABLE smtp_user (
        name          TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at    INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE sending_domain (
        name       TEXT PRIMARY KEY,             -- lower-case A-label
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE dkim_key (
        domain      TEXT NOT NULL REFERENCES sending_domain (name) ON DELETE CASCADE,
        selector    TEXT NOT NULL,
        algorithm   TEXT NOT NULL CHECK (algorithm IN ('rsa', 'ed25519')),
        private_key TEXT NOT NULL,               -- PKCS#8 PEM
        public_key  TEXT NOT NULL,               -- the p= value of the DKIM TXT record
        created_at  INTEGER NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('active', 'pending', 'retired')),
        PRIMARY KEY (domain, selector)
      ) STRICT;

      -- DKIM-Signature lines computed at acceptance, streamed before the spooled body
      ALTER TABLE queued_message ADD COLUMN header_prefix TEXT;

      ALTER TABLE smtp_user ADD COLUMN any_domain INTEGER NOT NULL DEFAULT 0;
      -- users created before domain grants existed could send as any domain: keep it so for them
      UPDATE smtp_user SET any_domain = 1;
      CREATE TABLE smtp_user_domain (
        user_name TEXT NOT NULL REFERENCES smtp_user (name) ON DELETE CASCADE,
        domain    TEXT NOT NULL,                 -- lower-case A-label; covers its subdomains
        PRIMARY KEY (user_name, domain)
      ) STRICT;
    `,
  },
  {
    version: 3,
    sql: `
      -- Bodies up to INLINE_MAX_BYTES (inline-body.ts), committed with their message's rows;
      -- a message without a row here has its body in the spool. Deleted when the message completes.
      CREATE TABLE message_body (
        message_id TEXT PRIMARY KEY REFERENCES queued_message (id) ON DELETE CASCADE,
        data       BLOB NOT NULL
      ) STRICT;

      -- JSON AttemptTls: the transport security of a remote delivery attempt
      ALTER TABLE attempt ADD COLUMN tls TEXT;
    `,
  },
  {
    version: 4,
    sql: `
      -- The envelope sender used on the wire when it differs from mail_from: the VERP return-path
      -- aligned with the signing domain (domains.bounceDomain). DSNs still go to mail_from.
      ALTER TABLE queued_message ADD COLUMN return_path TEXT;
    `,
  },
  {
    version: 5,
    sql: `
      -- One row per relay process: liveness for \`postlane cluster status\`.
      CREATE TABLE relay_node (
        node_id      TEXT PRIMARY KEY,
        started_at   INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        in_flight    INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 6,
    sql: `
      -- Issue 4: accounts (tenants) and what they own, quota counters, the message event log
      -- (written in the transaction of the state change it reports), webhooks with their
      -- delivery outbox and attempt log, and idempotency keys of the HTTP API.
      CREATE TABLE account (
        name       TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        limits     TEXT NOT NULL DEFAULT '{}'   -- JSON RateLimits
      ) STRICT;
      INSERT INTO account (name, created_at) VALUES ('default', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

      -- SQLite cannot add a column with both a REFERENCES clause and a non-NULL default, so the
      -- account of users, domains and messages is checked by the store (addUser/addDomain reject an
      -- unknown account; removeAccount deletes the users and domains) instead of by a foreign key.
      ALTER TABLE smtp_user ADD COLUMN account TEXT NOT NULL DEFAULT 'default';
      ALTER TABLE smtp_user ADD COLUMN limits TEXT NOT NULL DEFAULT '{}';
      CREATE INDEX smtp_user_account ON smtp_user (account);
      ALTER TABLE sending_domain ADD COLUMN account TEXT NOT NULL DEFAULT 'default';
      CREATE INDEX sending_domain_account ON sending_domain (account);

      ALTER TABLE queued_message ADD COLUMN account TEXT NOT NULL DEFAULT 'default';
      ALTER TABLE queued_message ADD COLUMN tags TEXT;        -- JSON string[]; NULL = none
      ALTER TABLE queued_message ADD COLUMN metadata TEXT;    -- JSON object; NULL = none
      ALTER TABLE queued_message ADD COLUMN stream TEXT NOT NULL DEFAULT 'transactional';
      CREATE INDEX queued_message_account ON queued_message (account, received_at);

      CREATE TABLE api_key (
        id           TEXT PRIMARY KEY,
        account      TEXT NOT NULL REFERENCES account (name) ON DELETE CASCADE,
        name         TEXT,
        secret_hash  TEXT NOT NULL,              -- sha256 hex of the secret part of the token
        scopes       TEXT NOT NULL,              -- JSON ApiScope[]
        limits       TEXT NOT NULL DEFAULT '{}', -- JSON RateLimits
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at   INTEGER
      ) STRICT;
      CREATE INDEX api_key_account ON api_key (account);

      -- One row per quota key and window; rows of windows that ended are purged with events.
      CREATE TABLE usage_counter (
        key          TEXT NOT NULL,              -- 'account:acme', 'user:app', 'key:<id>'
        window_start INTEGER NOT NULL,
        window_end   INTEGER NOT NULL,
        count        INTEGER NOT NULL,
        PRIMARY KEY (key, window_start)
      ) STRICT;
      CREATE INDEX usage_counter_end ON usage_counter (window_end);

      -- AUTOINCREMENT: a sequence number is never reused, even after the newest events are purged,
      -- so event ids and cursors stay stable.
      CREATE TABLE event (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        at         INTEGER NOT NULL,
        account    TEXT NOT NULL,               -- no FK: a message's events outlive a removed account
        type       TEXT NOT NULL,
        message_id TEXT,
        recipient  TEXT,
        data       TEXT NOT NULL                -- JSON
      ) STRICT;
      CREATE INDEX event_account ON event (account, seq);
      CREATE INDEX event_message ON event (message_id, seq) WHERE message_id IS NOT NULL;

      CREATE TABLE webhook (
        id              TEXT PRIMARY KEY,
        account         TEXT NOT NULL REFERENCES account (name) ON DELETE CASCADE,
        url             TEXT NOT NULL,
        events          TEXT NOT NULL,          -- JSON EventType[]; [] = all
        secret          TEXT NOT NULL,
        enabled         INTEGER NOT NULL,
        created_at      INTEGER NOT NULL,
        disabled_at     INTEGER,
        disabled_reason TEXT
      ) STRICT;
      CREATE INDEX webhook_account ON webhook (account);

      -- The outbox: one row per (webhook, event) still to deliver. A batch in flight is leased
      -- (lease_owner/lease_until) on its rows; the first pending row of a webhook is its head.
      CREATE TABLE webhook_delivery (
        webhook_id      TEXT NOT NULL REFERENCES webhook (id) ON DELETE CASCADE,
        event_seq       INTEGER NOT NULL REFERENCES event (seq) ON DELETE CASCADE,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_owner     TEXT,
        lease_until     INTEGER,
        PRIMARY KEY (webhook_id, event_seq)
      ) STRICT;
      CREATE INDEX webhook_delivery_event ON webhook_delivery (event_seq);

      CREATE TABLE webhook_attempt (
        id          INTEGER PRIMARY KEY,
        webhook_id  TEXT NOT NULL REFERENCES webhook (id) ON DELETE CASCADE,
        at          INTEGER NOT NULL,
        event_ids   TEXT NOT NULL,              -- JSON string[]
        ok          INTEGER NOT NULL,
        status      INTEGER,
        error       TEXT,
        duration_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX webhook_attempt_webhook ON webhook_attempt (webhook_id, id);
      CREATE INDEX webhook_attempt_at ON webhook_attempt (at);

      CREATE TABLE idempotency_key (
        account      TEXT NOT NULL,
        key          TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        response     TEXT,                      -- JSON { status, body }; NULL while in progress
        created_at   INTEGER NOT NULL,
        PRIMARY KEY (account, key)
      ) STRICT;
      CREATE INDEX idempotency_key_created ON idempotency_key (created_at);
    `,
  },
  {
    version: 7,
    // The recipient table is rebuilt (SQLite cannot change a CHECK constraint in place), with
    // foreign keys off as SQLite's documented procedure requires, so that dropping the old table
    // does not cascade into the attempt history that refers to it.
    rebuild: true,
    sql: `
      -- Issue 10: a recipient may end 'suppressed' (never sent: on the account's suppression list).
      CREATE TABLE recipient_v7 (
        id              INTEGER PRIMARY KEY,
        message_id      TEXT NOT NULL REFERENCES queued_message (id) ON DELETE CASCADE,
        address         TEXT NOT NULL,
        domain          TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN
                          ('queued', 'deferred', 'delivering', 'held', 'delivered', 'bounced', 'expired', 'suppressed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        lease_owner     TEXT,
        lease_until     INTEGER,
        last_response   TEXT,
        updated_at      INTEGER NOT NULL
      ) STRICT;
      INSERT INTO recipient_v7 (id, message_id, address, domain, state, attempts, next_attempt_at, lease_owner, lease_until, last_response, updated_at)
        SELECT id, message_id, address, domain, state, attempts, next_attempt_at, lease_owner, lease_until, last_response, updated_at FROM recipient;
      DROP TABLE recipient;
      ALTER TABLE recipient_v7 RENAME TO recipient;
      CREATE INDEX recipient_due ON recipient (next_attempt_at) WHERE state IN ('queued', 'deferred');
      CREATE INDEX recipient_lease ON recipient (lease_until) WHERE state = 'delivering';
      CREATE INDEX recipient_message ON recipient (message_id, domain);
      CREATE INDEX recipient_state ON recipient (state);

      -- The suppression list (store/suppression-store.ts): one row per account, address and scope.
      CREATE TABLE suppression (
        account    TEXT NOT NULL REFERENCES account (name) ON DELETE CASCADE,
        address    TEXT NOT NULL,               -- lower-case
        scope      TEXT NOT NULL CHECK (scope IN ('all', 'broadcast')),
        reason     TEXT NOT NULL,
        source     TEXT,
        message_id TEXT,
        detail     TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (account, address, scope)
      ) STRICT, WITHOUT ROWID;

      -- Consecutive soft bounces per address (cleared by a delivery), for the soft-bounce rule.
      CREATE TABLE soft_bounce (
        account  TEXT NOT NULL,
        address  TEXT NOT NULL,
        count    INTEGER NOT NULL,
        first_at INTEGER NOT NULL,
        last_at  INTEGER NOT NULL,
        PRIMARY KEY (account, address)
      ) STRICT, WITHOUT ROWID;

      -- Pre-aggregated statistics (store/event-effects.ts), written in the transaction of the
      -- events they count, at three grains: 'hour' (per UTC hour and stream, key ''), 'domain'
      -- (per UTC day, stream and recipient domain) and 'tag' (per UTC day, stream and tag; a
      -- message is counted once under each of its tags).
      CREATE TABLE stat_counter (
        account TEXT NOT NULL,
        grain   TEXT NOT NULL CHECK (grain IN ('hour', 'domain', 'tag')),
        bucket  INTEGER NOT NULL,               -- ms, start of the UTC hour or day
        stream  TEXT NOT NULL,
        key     TEXT NOT NULL,
        metric  TEXT NOT NULL,
        n       INTEGER NOT NULL,
        PRIMARY KEY (account, grain, bucket, stream, key, metric)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX stat_counter_bucket ON stat_counter (grain, bucket);

      -- Per-installation secrets (VERP return paths, unsubscribe and tracking links), shared by
      -- every process on this database; the newest signs, the others still verify until retired.
      CREATE TABLE installation_secret (
        purpose    TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        secret     BLOB NOT NULL,
        PRIMARY KEY (purpose, created_at)
      ) STRICT;
    `,
  },
  {
    version: 8,
    sql: `
      -- Issue 10: an account's own host for tracking and unsubscribe links (a CNAME to the relay).
      ALTER TABLE account ADD COLUMN tracking_domain TEXT;
      -- The stream of a user's SMTP submissions that do not name one (X-Postlane-Stream).
      ALTER TABLE smtp_user ADD COLUMN default_stream TEXT NOT NULL DEFAULT 'transactional'
        CHECK (default_stream IN ('transactional', 'broadcast'));
    `,
  },
  {
    version: 9,
    sql: `
      -- Issue 13: the DSN parameters of a message (RFC 3461: RET, ENVID, each recipient's NOTIFY
      -- and ORCPT), JSON (message/dsn-params.ts MessageDsn); NULL: none given.
      ALTER TABLE queued_message ADD COLUMN dsn TEXT;
    `,
  },
  {
    version: 10,
    sql: `
      -- Issue 13: what the next hops must offer, decided at acceptance (message/transport-needs.ts):
      -- MAIL FROM ... REQUIRETLS (RFC 8689), SMTPUTF8 (RFC 6531: UTF-8 addresses or header fields),
      -- and a TLS-Required: No header field (RFC 8689: recipient-side TLS policy not applied).
      ALTER TABLE queued_message ADD COLUMN require_tls INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE queued_message ADD COLUMN smtputf8 INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE queued_message ADD COLUMN tls_optional INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 11,
    sql: `
      -- Issue 13: TLS reporting (RFC 8460). Outbound TLS session outcomes per UTC day, policy
      -- domain, policy, result type, receiving MX/address and reason (added in batches).
      CREATE TABLE tls_outcome (
        day         INTEGER NOT NULL,           -- ms, start of the UTC day
        domain      TEXT NOT NULL,
        policy_type TEXT NOT NULL CHECK (policy_type IN ('sts', 'tlsa', 'no-policy-found')),
        policy_hash TEXT NOT NULL,
        policy      TEXT NOT NULL,              -- JSON { strings, mxHost }
        result_type TEXT NOT NULL,              -- 'success' or an RFC 8460 result type
        mx          TEXT NOT NULL,
        ip          TEXT NOT NULL,
        reason      TEXT NOT NULL,
        n           INTEGER NOT NULL,
        PRIMARY KEY (day, domain, policy_type, policy_hash, result_type, mx, ip, reason)
      ) STRICT, WITHOUT ROWID;
      -- One report per policy domain and day: the claim of the node sending it.
      CREATE TABLE tls_report (
        domain      TEXT NOT NULL,
        day         INTEGER NOT NULL,
        owner       TEXT NOT NULL,
        lease_until INTEGER NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('claimed', 'sent', 'skipped', 'failed')),
        attempts    INTEGER NOT NULL,
        detail      TEXT NOT NULL,
        PRIMARY KEY (domain, day)
      ) STRICT;
    `,
  },
  {
    version: 13,
    sql: `
      -- Issue 11, fairness: a recipient carries its message's stream, so claimDue walks the
      -- transactional mail first (recipient_due_stream) without joining every due row.
      ALTER TABLE recipient ADD COLUMN stream TEXT NOT NULL DEFAULT 'transactional' CHECK (stream IN ('transactional', 'broadcast'));
      UPDATE recipient SET stream = 'broadcast' WHERE message_id IN (SELECT id FROM queued_message WHERE stream = 'broadcast');
      CREATE INDEX recipient_due_stream ON recipient (stream, next_attempt_at) WHERE state IN ('queued', 'deferred');
      -- Issue 11, circuit breakers: a recipient held (state 'held') by an open breaker names it;
      -- held_ms is the time it spent held by breakers, which its expiry does not count.
      ALTER TABLE recipient ADD COLUMN breaker_id INTEGER;
      ALTER TABLE recipient ADD COLUMN held_ms INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX recipient_breaker ON recipient (breaker_id) WHERE breaker_id IS NOT NULL;
      CREATE TABLE breaker (
        id            INTEGER PRIMARY KEY,
        scope_type    TEXT NOT NULL CHECK (scope_type IN ('account', 'domain', 'source')),
        scope_key     TEXT NOT NULL,
        account       TEXT NOT NULL,          -- whose mail tripped it (its webhooks got the event)
        metric        TEXT NOT NULL,
        rate          REAL NOT NULL,
        count         INTEGER NOT NULL,
        volume        INTEGER NOT NULL,
        threshold     REAL NOT NULL,
        window_ms     INTEGER NOT NULL,
        tripped_at    INTEGER NOT NULL,
        resumed_at    INTEGER,
        resumed_by    TEXT,
        resume_reason TEXT
      ) STRICT;
      CREATE UNIQUE INDEX breaker_open ON breaker (scope_type, scope_key) WHERE resumed_at IS NULL;
      CREATE INDEX breaker_scope ON breaker (scope_type, scope_key, resumed_at);
      CREATE TABLE breaker_counter (
        scope_type TEXT NOT NULL,
        scope_key  TEXT NOT NULL,
        bucket     INTEGER NOT NULL,           -- ms, start of the bucket (breakers.window / 48)
        counter    TEXT NOT NULL,
        n          INTEGER NOT NULL,
        PRIMARY KEY (scope_type, scope_key, bucket, counter)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX breaker_counter_bucket ON breaker_counter (bucket);
    `,
  },
  {
    version: 14,
    sql: `
      -- Issue 11, traffic shaping: a provider suspended for an egress source (shaping-store.ts).
      CREATE TABLE provider_suspension (
        provider        TEXT NOT NULL,
        source          TEXT NOT NULL,
        suspended_until INTEGER NOT NULL,
        reason          TEXT NOT NULL,
        updated_at      INTEGER NOT NULL,
        PRIMARY KEY (provider, source)
      );
    `,
  },
  {
    version: 15,
    sql: `
      -- Issue 11, egress IP pools: the live state of each egress source (a config source has only
      -- its state here; one added at run time has its definition too), seen by every node.
      CREATE TABLE egress_source (
        name            TEXT PRIMARY KEY,
        state           TEXT NOT NULL CHECK (state IN ('active', 'draining', 'paused')),
        address         TEXT,
        ehlo            TEXT,
        pool            TEXT,
        warmup_schedule TEXT,
        warmup_start    TEXT,
        updated_at      INTEGER NOT NULL
      ) STRICT;
      -- The egress source of each attempt (null: before v15, or local delivery).
      ALTER TABLE attempt ADD COLUMN source TEXT;
      -- Warmup: messages per source, mailbox provider and UTC day (days since 1970-01-01).
      CREATE TABLE warmup_count (
        source   TEXT NOT NULL,
        provider TEXT NOT NULL,
        day      INTEGER NOT NULL,
        n        INTEGER NOT NULL,
        PRIMARY KEY (source, provider, day)
      ) STRICT;
    `,
  },
  {
    version: 16,
    sql: `
      -- Issue 12, the web dashboard: its users (an admin, or a user of one account) and their login
      -- sessions, of which only the SHA-256 of the token is kept.
      CREATE TABLE dashboard_user (
        username      TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('admin', 'account')),
        account       TEXT REFERENCES account (name) ON DELETE CASCADE,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        CHECK ((role = 'admin') = (account IS NULL))
      ) STRICT;
      CREATE TABLE dashboard_session (
        token_hash TEXT PRIMARY KEY,
        username   TEXT NOT NULL REFERENCES dashboard_user (username) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        idle_until INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX dashboard_session_user ON dashboard_session (username);
      CREATE INDEX dashboard_session_end ON dashboard_session (idle_until);
    `,
  },
  {
    version: 17,
    sql: `
      -- Issue 14, claimDue cost: a recipient carries its message's account (never changes), so the
      -- claim walks read one covering index and no table row: neither the recipient row nor a
      -- primary-key probe of its message per walked entry (the fairness walks read 4 per job).
      -- recipient_due_claim replaces recipient_due_stream and recipient_due (nextDueAt reads it
      -- per stream): one index less to update on every state change.
      ALTER TABLE recipient ADD COLUMN account TEXT NOT NULL DEFAULT '';
      UPDATE recipient SET account = (SELECT m.account FROM queued_message m WHERE m.id = recipient.message_id);
      -- state is last only so that the walks' state IN (...), which SQLite does not take as implied
      -- by the index's WHERE, is answered from the index too.
      CREATE INDEX recipient_due_claim ON recipient (stream, next_attempt_at, account, message_id, domain, state)
        WHERE state IN ('queued', 'deferred');
      DROP INDEX recipient_due_stream;
      DROP INDEX recipient_due;
    `,
  },
  {
    version: 18,
    sql: `
      -- Issue 12, message timeline: per attempt the remote IP the session connected to and how long
      -- the attempt took (null: before v18, local delivery, or no host reached); per message its
      -- Subject (decoded, at most 200 characters; null: before v18 or none) for the subject search.
      ALTER TABLE attempt ADD COLUMN remote_ip TEXT;
      ALTER TABLE attempt ADD COLUMN duration_ms INTEGER;
      ALTER TABLE queued_message ADD COLUMN subject TEXT;
    `,
  },
  {
    version: 19,
    sql: `
      -- Issue 12, the queue overview under 300 ms at 100,000 waiting messages: the waiting
      -- recipients (queued, deferred, delivering, held) counted per (account, domain, state) in
      -- queue_count, kept exact by triggers on recipient, so every path that inserts, deletes
      -- (a message's cascade too) or changes the state of a recipient counts in its own transaction.
      -- A recipient carries its message's receive time (never changes), and recipient_waiting
      -- answers the oldest of each counted group with one index seek.
      ALTER TABLE recipient ADD COLUMN received_at INTEGER NOT NULL DEFAULT 0;
      UPDATE recipient SET received_at = (SELECT m.received_at FROM queued_message m WHERE m.id = recipient.message_id);
      CREATE INDEX recipient_waiting ON recipient (account, domain, state, received_at)
        WHERE state IN ('queued', 'deferred', 'delivering', 'held');
      CREATE TABLE queue_count (
        account TEXT NOT NULL,
        domain  TEXT NOT NULL,
        state   TEXT NOT NULL,
        n       INTEGER NOT NULL,
        PRIMARY KEY (account, domain, state)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO queue_count (account, domain, state, n)
        SELECT account, domain, state, COUNT(*) FROM recipient
        WHERE state IN ('queued', 'deferred', 'delivering', 'held') GROUP BY account, domain, state;
      CREATE TRIGGER queue_count_insert AFTER INSERT ON recipient
        WHEN NEW.state IN ('queued', 'deferred', 'delivering', 'held')
      BEGIN
        INSERT INTO queue_count (account, domain, state, n) VALUES (NEW.account, NEW.domain, NEW.state, 1)
          ON CONFLICT (account, domain, state) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER queue_count_delete AFTER DELETE ON recipient
        WHEN OLD.state IN ('queued', 'deferred', 'delivering', 'held')
      BEGIN
        UPDATE queue_count SET n = n - 1 WHERE account = OLD.account AND domain = OLD.domain AND state = OLD.state;
      END;
      CREATE TRIGGER queue_count_update AFTER UPDATE OF state, account, domain ON recipient
        WHEN OLD.state IS NOT NEW.state OR OLD.account IS NOT NEW.account OR OLD.domain IS NOT NEW.domain
      BEGIN
        UPDATE queue_count SET n = n - 1 WHERE account = OLD.account AND domain = OLD.domain AND state = OLD.state
          AND OLD.state IN ('queued', 'deferred', 'delivering', 'held');
        INSERT INTO queue_count (account, domain, state, n) SELECT NEW.account, NEW.domain, NEW.state, 1
          WHERE NEW.state IN ('queued', 'deferred', 'delivering', 'held')
          ON CONFLICT (account, domain, state) DO UPDATE SET n = n + 1;
      END;
    `,
  },
  {
    version: 20,
    sql: `
      -- Issue 12, message search by recipient under 300 ms: the search drives from the recipients with
      -- that address (lower-cased, as the search compares) to their messages, where it probed every
      -- message of the account for one (627 ms at 100,000 messages for an address with no mail). An
      -- address never changes, so only intake writes this index, never a state change.
      CREATE INDEX recipient_address ON recipient (lower(address), message_id);
    `,
  },
  {
    version: 21,
    sql: `
      -- Issue 14, the queue counters' cost on delivery: recipient_waiting (v19) held 'delivering'
      -- too, so a claim moved each recipient's entry (queued -> delivering: delete and insert) and
      -- its delivery removed it again. recipient_unclaimed leaves 'delivering' out: a claim only
      -- removes the entry and the delivery touches no entry of it.
      CREATE INDEX recipient_unclaimed ON recipient (account, domain, state, received_at)
        WHERE state IN ('queued', 'deferred', 'held');
      DROP INDEX recipient_waiting;
      -- Nor are delivering recipients counted any more: a claim only takes one from its group and a
      -- delivery (delivering -> delivered) fires no counter statement. The delivering ones are few
      -- (the ones in flight), so the overview counts them, and finds their oldest, by reading them.
      DROP TRIGGER queue_count_insert;
      DROP TRIGGER queue_count_delete;
      DROP TRIGGER queue_count_update;
      DELETE FROM queue_count WHERE state NOT IN ('queued', 'deferred', 'held');
      CREATE TRIGGER queue_count_insert AFTER INSERT ON recipient
        WHEN NEW.state IN ('queued', 'deferred', 'held')
      BEGIN
        INSERT INTO queue_count (account, domain, state, n) VALUES (NEW.account, NEW.domain, NEW.state, 1)
          ON CONFLICT (account, domain, state) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER queue_count_delete AFTER DELETE ON recipient
        WHEN OLD.state IN ('queued', 'deferred', 'held')
      BEGIN
        UPDATE queue_count SET n = n - 1 WHERE account = OLD.account AND domain = OLD.domain AND state = OLD.state;
      END;
      CREATE TRIGGER queue_count_update AFTER UPDATE OF state, account, domain ON recipient
        WHEN (OLD.state IS NOT NEW.state OR OLD.account IS NOT NEW.account OR OLD.domain IS NOT NEW.domain)
          AND (OLD.state IN ('queued', 'deferred', 'held') OR NEW.state IN ('queued', 'deferred', 'held'))
      BEGIN
        UPDATE queue_count SET n = n - 1 WHERE account = OLD.account AND domain = OLD.domain AND state = OLD.state
          AND OLD.state IN ('queued', 'deferred', 'held');
        INSERT INTO queue_count (account, domain, state, n) SELECT NEW.account, NEW.domain, NEW.state, 1
          WHERE NEW.state IN ('queued', 'deferred', 'held')
          ON CONFLICT (account, domain, state) DO UPDATE SET n = n + 1;
      END;
    `,
  },
  {
    version: 22,
    sql: `
      -- Issue 14, SQLite's cost per recipient: SQLite tests x IN (list) of three or more constants
      -- by building a temporary b-tree of the list each time a statement runs (two constants are
      -- compared in place). The counters' triggers and recipient_unclaimed's WHERE, run by every
      -- insert, claim and result, built six of them per claim and per result (bench/README.md,
      -- thirteenth session). The same sets, written as two short lists: nothing built.
      DROP TRIGGER queue_count_insert;
      DROP TRIGGER queue_count_delete;
      DROP TRIGGER queue_count_update;
      CREATE TRIGGER queue_count_insert AFTER INSERT ON recipient
        WHEN NEW.state IN ('queued', 'deferred') OR NEW.state = 'held'
      BEGIN
        INSERT INTO queue_count (account, domain, state, n) VALUES (NEW.account, NEW.domain, NEW.state, 1)
          ON CONFLICT (account, domain, state) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER queue_count_delete AFTER DELETE ON recipient
        WHEN OLD.state IN ('queued', 'deferred') OR OLD.state = 'held'
      BEGIN
        UPDATE queue_count SET n = n - 1 WHERE account = OLD.account AND domain = OLD.domain AND state = OLD.state;
      END;
      CREATE TRIGGER queue_count_update AFTER UPDATE OF state, account, domain ON recipient
        WHEN (OLD.state IS NOT NEW.state OR OLD.account IS NOT NEW.account OR OLD.domain IS NOT NEW.domain)
          AND (OLD.state IN ('queued', 'deferred') OR OLD.state = 'held' OR NEW.state IN ('queued', 'deferred') OR NEW.state = 'held')
      BEGIN
        UPDATE queue_count SET n = n - 1 WHERE account = OLD.account AND domain = OLD.domain AND state = OLD.state
          AND (OLD.state IN ('queued', 'deferred') OR OLD.state = 'held');
        INSERT INTO queue_count (account, domain, state, n) SELECT NEW.account, NEW.domain, NEW.state, 1
          WHERE NEW.state IN ('queued', 'deferred') OR NEW.state = 'held'
          ON CONFLICT (account, domain, state) DO UPDATE SET n = n + 1;
      END;
      -- The overview's oldest-per-group seek names this WHERE word for word (sql/queue-overview.ts
      -- COUNTED), as SQLite uses a partial index only for a query term that matches it.
      DROP INDEX recipient_unclaimed;
      CREATE INDEX recipient_unclaimed ON recipient (account, domain, state, received_at)
        WHERE state IN ('queued', 'deferred') OR state = 'held';
    `,
  },
];

/** Brings the database to the latest version; safe when several processes open it at once. */
export function migrate(db: Database.Database): number {
  const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  if (userVersion(db) === latest) return latest;
  // A table rebuild needs foreign keys off, and the pragma is a no-op inside a transaction.
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  if (MIGRATIONS.some((m) => m.rebuild && m.version > userVersion(db))) db.pragma('foreign_keys = OFF');
  db.exec('BEGIN IMMEDIATE'); // serializes concurrent migrators; re-read the version under the lock
  try {
    const current = userVersion(db);
    if (current > latest) throw new Error(`queue database schema v${current} is newer than this Postlane (v${latest})`);
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
    const broken = db.pragma('foreign_key_check') as unknown[];
    if (broken.length > 0) throw new Error(`migration left ${broken.length} broken foreign key(s)`);
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
  return latest;
}

const userVersion = (db: Database.Database) => db.pragma('user_version', { simple: true }) as number;
