// The PostgreSQL schema as ordered, versioned migrations recorded in schema_migrations. Kept in
// TypeScript because tsc does not copy .sql files. migrate() runs them under a session advisory
// lock, so several nodes starting at once migrate exactly once. Never edit a released migration.
import type pg from 'pg';

export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE queued_message (
        id             text PRIMARY KEY,
        mail_from      text NOT NULL,
        return_path    text,                     -- MAIL FROM on the wire when it differs (VERP)
        size           bigint NOT NULL,
        received_at    bigint NOT NULL,          -- ms since epoch, like every time column
        origin         jsonb NOT NULL,           -- { listener, clientIp, user, helo? }
        is_bounce      boolean NOT NULL,
        route          text NOT NULL CHECK (route IN ('relay', 'local')),
        delay_notified boolean NOT NULL DEFAULT false,
        header_prefix  text,                     -- DKIM-Signature lines streamed before the body
        completed_at   bigint                    -- set when every recipient is final
      );
      CREATE INDEX queued_message_open ON queued_message (received_at, id) WHERE completed_at IS NULL;
      CREATE INDEX queued_message_completed ON queued_message (completed_at) WHERE completed_at IS NOT NULL;

      -- The body of a message until it completes: every node reads it from here.
      CREATE TABLE message_body (
        message_id text PRIMARY KEY REFERENCES queued_message (id) ON DELETE CASCADE,
        data       bytea NOT NULL
      );

      CREATE TABLE recipient (
        id              bigserial PRIMARY KEY,
        message_id      text NOT NULL REFERENCES queued_message (id) ON DELETE CASCADE,
        address         text NOT NULL,
        domain          text NOT NULL,           -- lower-case, the part after the last @
        state           text NOT NULL CHECK (state IN
                          ('queued', 'deferred', 'delivering', 'held', 'delivered', 'bounced', 'expired')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at bigint,
        lease_owner     text,
        lease_until     bigint,
        last_response   text,
        updated_at      bigint NOT NULL
      );
      CREATE INDEX recipient_due ON recipient (next_attempt_at) WHERE state IN ('queued', 'deferred');
      CREATE INDEX recipient_lease ON recipient (lease_until) WHERE state = 'delivering';
      CREATE INDEX recipient_message ON recipient (message_id, domain);
      CREATE INDEX recipient_state ON recipient (state);

      CREATE TABLE attempt (
        id         bigserial PRIMARY KEY,
        message_id text NOT NULL REFERENCES queued_message (id) ON DELETE CASCADE,
        rcpt_id    bigint NOT NULL REFERENCES recipient (id) ON DELETE CASCADE,
        at         bigint NOT NULL,
        status     text NOT NULL,
        host       text,
        response   text NOT NULL,
        tls        jsonb                         -- AttemptTls of a remote delivery attempt
      );
      CREATE INDEX attempt_message ON attempt (message_id, at);
      CREATE INDEX attempt_rcpt ON attempt (rcpt_id);

      CREATE TABLE smtp_user (
        name          text PRIMARY KEY,
        password_hash text NOT NULL,
        created_at    bigint NOT NULL,
        any_domain    boolean NOT NULL DEFAULT false
      );
      CREATE TABLE smtp_user_domain (
        user_name text NOT NULL REFERENCES smtp_user (name) ON DELETE CASCADE,
        domain    text NOT NULL,                 -- lower-case A-label; covers its subdomains
        PRIMARY KEY (user_name, domain)
      );

      CREATE TABLE sending_domain (
        name       text PRIMARY KEY,             -- lower-case A-label
        created_at bigint NOT NULL
      );
      CREATE TABLE dkim_key (
        domain      text NOT NULL REFERENCES sending_domain (name) ON DELETE CASCADE,
        selector    text NOT NULL,
        seq         bigserial,                   -- the order keys were added (ties of created_at)
        algorithm   text NOT NULL CHECK (algorithm IN ('rsa', 'ed25519')),
        private_key text NOT NULL,               -- PKCS#8 PEM
        public_key  text NOT NULL,               -- the p= value of the DKIM TXT record
        created_at  bigint NOT NULL,
        state       text NOT NULL CHECK (state IN ('active', 'pending', 'retired')),
        PRIMARY KEY (domain, selector)
      );
    `,
  },
  {
    version: 2,
    sql: `
      -- One row per relay process: liveness for \`postlane cluster status\`.
      CREATE TABLE relay_node (
        node_id      text PRIMARY KEY,
        started_at   bigint NOT NULL,
        last_seen_at bigint NOT NULL,
        in_flight    integer NOT NULL
      );
    `,
  },
  {
    version: 3,
    sql: `
      -- Cluster-wide per-destination concurrency: row (destination, slot) is one permitted
      -- connection to that recipient domain, leased by a node for as long as it holds the
      -- connection (renewed while it lives); a dead node's slots are free once lease_until passes.
      CREATE TABLE destination_slot (
        destination text NOT NULL,               -- lower-case recipient domain (the scheduler's key)
        slot        integer NOT NULL,            -- 0 .. delivery.maxConnectionsPerDestination - 1
        owner       text,                        -- node id; NULL when free
        lease_until bigint NOT NULL DEFAULT 0,   -- ms since epoch
        PRIMARY KEY (destination, slot)
      );
      CREATE INDEX destination_slot_owner ON destination_slot (owner) WHERE owner IS NOT NULL;
    `,
  },
  {
    version: 4,
    sql: `
      -- Issue 4: accounts (tenants) and what they own, quota counters, the message event log
      -- (written in the transaction of the state change it reports), webhooks with their
      -- delivery outbox and attempt log, and idempotency keys of the HTTP API.
      CREATE TABLE account (
        name       text PRIMARY KEY,
        created_at bigint NOT NULL,
        limits     jsonb NOT NULL DEFAULT '{}'   -- RateLimits
      );
      INSERT INTO account (name, created_at) VALUES ('default', (extract(epoch FROM now()) * 1000)::bigint);

      ALTER TABLE smtp_user ADD COLUMN account text NOT NULL DEFAULT 'default' REFERENCES account (name) ON DELETE CASCADE;
      ALTER TABLE smtp_user ADD COLUMN limits jsonb NOT NULL DEFAULT '{}';
      CREATE INDEX smtp_user_account ON smtp_user (account);
      ALTER TABLE sending_domain ADD COLUMN account text NOT NULL DEFAULT 'default' REFERENCES account (name) ON DELETE CASCADE;
      CREATE INDEX sending_domain_account ON sending_domain (account);

      -- No FK: a message (and its events) outlives a removed account until it is delivered.
      ALTER TABLE queued_message ADD COLUMN account text NOT NULL DEFAULT 'default';
      ALTER TABLE queued_message ADD COLUMN tags jsonb NOT NULL DEFAULT '[]';
      ALTER TABLE queued_message ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}';
      ALTER TABLE queued_message ADD COLUMN stream text NOT NULL DEFAULT 'transactional';
      CREATE INDEX queued_message_account ON queued_message (account, received_at);

      CREATE TABLE api_key (
        id           text PRIMARY KEY,
        account      text NOT NULL REFERENCES account (name) ON DELETE CASCADE,
        name         text,
        secret_hash  text NOT NULL,              -- sha256 hex of the secret part of the token
        scopes       jsonb NOT NULL,             -- ApiScope[]
        limits       jsonb NOT NULL DEFAULT '{}',
        created_at   bigint NOT NULL,
        last_used_at bigint,
        revoked_at   bigint
      );
      CREATE INDEX api_key_account ON api_key (account);

      -- One row per quota key and window, shared by every node; ended windows are purged with events.
      CREATE TABLE usage_counter (
        key          text NOT NULL,              -- 'account:acme', 'user:app', 'key:<id>'
        window_start bigint NOT NULL,
        window_end   bigint NOT NULL,
        count        bigint NOT NULL,
        PRIMARY KEY (key, window_start)
      );
      CREATE INDEX usage_counter_end ON usage_counter (window_end);

      CREATE TABLE event (
        seq        bigserial PRIMARY KEY,
        at         bigint NOT NULL,
        account    text NOT NULL,               -- no FK, like queued_message.account
        type       text NOT NULL,
        message_id text,
        recipient  text,
        data       jsonb NOT NULL
      );
      CREATE INDEX event_account ON event (account, seq);
      CREATE INDEX event_message ON event (message_id, seq) WHERE message_id IS NOT NULL;

      CREATE TABLE webhook (
        id              text PRIMARY KEY,
        account         text NOT NULL REFERENCES account (name) ON DELETE CASCADE,
        url             text NOT NULL,
        events          jsonb NOT NULL,         -- EventType[]; [] = all
        secret          text NOT NULL,
        enabled         boolean NOT NULL,
        created_at      bigint NOT NULL,
        disabled_at     bigint,
        disabled_reason text
      );
      CREATE INDEX webhook_account ON webhook (account) WHERE enabled;

      -- The outbox: one row per (webhook, event) still to deliver; a batch in flight is leased on its rows.
      CREATE TABLE webhook_delivery (
        webhook_id      text NOT NULL REFERENCES webhook (id) ON DELETE CASCADE,
        event_seq       bigint NOT NULL REFERENCES event (seq) ON DELETE CASCADE,
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at bigint NOT NULL,
        lease_owner     text,
        lease_until     bigint,
        PRIMARY KEY (webhook_id, event_seq)
      );
      CREATE INDEX webhook_delivery_event ON webhook_delivery (event_seq);

      CREATE TABLE webhook_attempt (
        id          bigserial PRIMARY KEY,
        webhook_id  text NOT NULL REFERENCES webhook (id) ON DELETE CASCADE,
        at          bigint NOT NULL,
        event_ids   jsonb NOT NULL,             -- string[]
        ok          boolean NOT NULL,
        status      integer,
        error       text,
        duration_ms integer NOT NULL
      );
      CREATE INDEX webhook_attempt_webhook ON webhook_attempt (webhook_id, id);
      CREATE INDEX webhook_attempt_at ON webhook_attempt (at);

      CREATE TABLE idempotency_key (
        account      text NOT NULL,
        key          text NOT NULL,
        request_hash text NOT NULL,
        response     jsonb,                     -- { status, body }; NULL while in progress
        created_at   bigint NOT NULL,
        PRIMARY KEY (account, key)
      );
      CREATE INDEX idempotency_key_created ON idempotency_key (created_at);
    `,
  },
  {
    version: 5,
    sql: `
      -- Issue 10: a recipient may end 'suppressed' (never sent: on the account's suppression list).
      ALTER TABLE recipient DROP CONSTRAINT recipient_state_check;
      ALTER TABLE recipient ADD CONSTRAINT recipient_state_check CHECK (state IN
        ('queued', 'deferred', 'delivering', 'held', 'delivered', 'bounced', 'expired', 'suppressed'));

      -- The suppression list (store/suppression-store.ts): one row per account, address and scope.
      CREATE TABLE suppression (
        account    text NOT NULL REFERENCES account (name) ON DELETE CASCADE,
        address    text NOT NULL,               -- lower-case
        scope      text NOT NULL CHECK (scope IN ('all', 'broadcast')),
        reason     text NOT NULL,
        source     text,
        message_id text,
        detail     text,
        created_at bigint NOT NULL,
        PRIMARY KEY (account, address, scope)
      );

      -- Consecutive soft bounces per address (cleared by a delivery), for the soft-bounce rule.
      CREATE TABLE soft_bounce (
        account  text NOT NULL,
        address  text NOT NULL,
        count    integer NOT NULL,
        first_at bigint NOT NULL,
        last_at  bigint NOT NULL,
        PRIMARY KEY (account, address)
      );

      -- Pre-aggregated statistics (store/event-effects.ts), written in the transaction of the
      -- events they count, at three grains: 'hour' (per UTC hour and stream, key ''), 'domain'
      -- (per UTC day, stream and recipient domain) and 'tag' (per UTC day, stream and tag; a
      -- message is counted once under each of its tags).
      CREATE TABLE stat_counter (
        account text NOT NULL,
        grain   text NOT NULL CHECK (grain IN ('hour', 'domain', 'tag')),
        bucket  bigint NOT NULL,                -- ms, start of the UTC hour or day
        stream  text NOT NULL,
        key     text NOT NULL,
        metric  text NOT NULL,
        n       bigint NOT NULL,
        PRIMARY KEY (account, grain, bucket, stream, key, metric)
      );
      CREATE INDEX stat_counter_bucket ON stat_counter (grain, bucket);
      -- Counters as appended by the event writers (no lock on a hot row), rolled up into
      -- stat_counter by one node at a time (postgres/stats-ops.ts); reads add the two.
      CREATE TABLE stat_delta (
        id      bigserial PRIMARY KEY,
        account text NOT NULL,
        grain   text NOT NULL,
        bucket  bigint NOT NULL,
        stream  text NOT NULL,
        key     text NOT NULL,
        metric  text NOT NULL,
        n       bigint NOT NULL
      );
      -- Reads add the deltas not folded yet: by range, never a scan of a table that churns.
      CREATE INDEX stat_delta_bucket ON stat_delta (grain, bucket);

      -- Per-installation secrets (VERP return paths, unsubscribe and tracking links), shared by
      -- every node; the newest signs, the others still verify until retired.
      CREATE TABLE installation_secret (
        purpose    text NOT NULL,
        created_at bigint NOT NULL,
        secret     bytea NOT NULL,
        PRIMARY KEY (purpose, created_at)
      );
    `,
  },
  {
    version: 6,
    sql: `
      -- Issue 10: an account's own host for tracking and unsubscribe links (a CNAME to the relay).
      ALTER TABLE account ADD COLUMN tracking_domain text;
      -- The stream of a user's SMTP submissions that do not name one (X-Postlane-Stream).
      ALTER TABLE smtp_user ADD COLUMN default_stream text NOT NULL DEFAULT 'transactional'
        CHECK (default_stream IN ('transactional', 'broadcast'));
    `,
  },
  {
    version: 7,
    sql: `
      -- Issue 13: the DSN parameters of a message (RFC 3461: RET, ENVID, each recipient's NOTIFY
      -- and ORCPT), as message/dsn-params.ts MessageDsn; NULL: none given.
      ALTER TABLE queued_message ADD COLUMN dsn jsonb;
    `,
  },
  {
    version: 8,
    sql: `
      -- Issue 13: what the next hops must offer, decided at acceptance (message/transport-needs.ts):
      -- MAIL FROM ... REQUIRETLS (RFC 8689), SMTPUTF8 (RFC 6531: UTF-8 addresses or header fields),
      -- and a TLS-Required: No header field (RFC 8689: recipient-side TLS policy not applied).
      ALTER TABLE queued_message ADD COLUMN require_tls boolean NOT NULL DEFAULT false;
      ALTER TABLE queued_message ADD COLUMN smtputf8 boolean NOT NULL DEFAULT false;
      ALTER TABLE queued_message ADD COLUMN tls_optional boolean NOT NULL DEFAULT false;
    `,
  },
  {
    version: 9,
    sql: `
      -- Issue 13: TLS reporting (RFC 8460). Outbound TLS session outcomes per UTC day, policy
      -- domain, policy, result type, receiving MX/address and reason (added in batches).
      CREATE TABLE tls_outcome (
        day         bigint NOT NULL,            -- ms, start of the UTC day
        domain      text NOT NULL,
        policy_type text NOT NULL CHECK (policy_type IN ('sts', 'tlsa', 'no-policy-found')),
        policy_hash text NOT NULL,
        policy      text NOT NULL,              -- JSON { strings, mxHost }
        result_type text NOT NULL,              -- 'success' or an RFC 8460 result type
        mx          text NOT NULL,
        ip          text NOT NULL,
        reason      text NOT NULL,
        n           bigint NOT NULL,
        PRIMARY KEY (day, domain, policy_type, policy_hash, result_type, mx, ip, reason)
      );
      -- One report per policy domain and day: the claim of the node sending it (the unique key
      -- makes it exactly one across nodes).
      CREATE TABLE tls_report (
        domain      text NOT NULL,
        day         bigint NOT NULL,
        owner       text NOT NULL,
        lease_until bigint NOT NULL,
        state       text NOT NULL CHECK (state IN ('claimed', 'sent', 'skipped', 'failed')),
        attempts    integer NOT NULL,
        detail      text NOT NULL,
        PRIMARY KEY (domain, day)
      );
    `,
  },
  {
    version: 11,
    sql: `
      -- Issue 11, fairness: a recipient carries its message's stream, so claimDue walks the
      -- transactional mail first (recipient_due_stream) without joining every due row.
      ALTER TABLE recipient ADD COLUMN stream text NOT NULL DEFAULT 'transactional' CHECK (stream IN ('transactional', 'broadcast'));
      UPDATE recipient r SET stream = 'broadcast' FROM queued_message m WHERE m.id = r.message_id AND m.stream = 'broadcast';
      CREATE INDEX recipient_due_stream ON recipient (stream, next_attempt_at) WHERE state IN ('queued', 'deferred');
      -- Issue 11, circuit breakers: a recipient held (state 'held') by an open breaker names it;
      -- held_ms is the time it spent held by breakers, which its expiry does not count.
      ALTER TABLE recipient ADD COLUMN breaker_id bigint;
      ALTER TABLE recipient ADD COLUMN held_ms bigint NOT NULL DEFAULT 0;
      CREATE INDEX recipient_breaker ON recipient (breaker_id) WHERE breaker_id IS NOT NULL;
      CREATE TABLE breaker (
        id            bigserial PRIMARY KEY,
        scope_type    text NOT NULL CHECK (scope_type IN ('account', 'domain', 'source')),
        scope_key     text NOT NULL,
        account       text NOT NULL,          -- whose mail tripped it (its webhooks got the event)
        metric        text NOT NULL,
        rate          double precision NOT NULL,
        count         bigint NOT NULL,
        volume        bigint NOT NULL,
        threshold     double precision NOT NULL,
        window_ms     bigint NOT NULL,
        tripped_at    bigint NOT NULL,
        resumed_at    bigint,
        resumed_by    text,
        resume_reason text
      );
      CREATE UNIQUE INDEX breaker_open ON breaker (scope_type, scope_key) WHERE resumed_at IS NULL;
      CREATE INDEX breaker_scope ON breaker (scope_type, scope_key, resumed_at);
      CREATE TABLE breaker_counter (
        scope_type text NOT NULL,
        scope_key  text NOT NULL,
        bucket     bigint NOT NULL,           -- ms, start of the bucket (breakers.window / 48)
        counter    text NOT NULL,
        n          bigint NOT NULL,
        PRIMARY KEY (scope_type, scope_key, bucket, counter)
      );
      CREATE INDEX breaker_counter_bucket ON breaker_counter (bucket);
    `,
  },
  {
    version: 12,
    sql: `
      -- Issue 11, traffic shaping: a provider suspended for an egress source, seen by every node (shaping-store.ts).
      CREATE TABLE provider_suspension (
        provider        text NOT NULL,
        source          text NOT NULL,
        suspended_until bigint NOT NULL,
        reason          text NOT NULL,
        updated_at      bigint NOT NULL,
        PRIMARY KEY (provider, source)
      );
    `,
  },
  {
    version: 13,
    sql: `
      -- Issue 11, egress IP pools: the live state of each egress source (a config source has only
      -- its state here; one added at run time has its definition too), seen by every node.
      CREATE TABLE egress_source (
        name            text PRIMARY KEY,
        state           text NOT NULL CHECK (state IN ('active', 'draining', 'paused')),
        address         text,
        ehlo            text,
        pool            text,
        warmup_schedule text,
        warmup_start    text,
        updated_at      bigint NOT NULL
      );
      -- The egress source of each attempt (null: before v13, or local delivery).
      ALTER TABLE attempt ADD COLUMN source text;
      -- Warmup: messages per source, mailbox provider and UTC day (days since 1970-01-01).
      CREATE TABLE warmup_count (
        source   text NOT NULL,
        provider text NOT NULL,
        day      bigint NOT NULL,
        n        bigint NOT NULL,
        PRIMARY KEY (source, provider, day)
      );
    `,
  },
  {
    version: 14,
    sql: `
      -- Issue 12, the web dashboard: its users (an admin, or a user of one account) and their login
      -- sessions, of which only the SHA-256 of the token is kept.
      CREATE TABLE dashboard_user (
        username      text PRIMARY KEY,
        password_hash text NOT NULL,
        role          text NOT NULL CHECK (role IN ('admin', 'account')),
        account       text REFERENCES account (name) ON DELETE CASCADE,
        created_at    bigint NOT NULL,
        updated_at    bigint NOT NULL,
        CHECK ((role = 'admin') = (account IS NULL))
      );
      CREATE TABLE dashboard_session (
        token_hash text PRIMARY KEY,
        username   text NOT NULL REFERENCES dashboard_user (username) ON DELETE CASCADE,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        idle_until bigint NOT NULL
      );
      CREATE INDEX dashboard_session_user ON dashboard_session (username);
      CREATE INDEX dashboard_session_end ON dashboard_session (idle_until);
    `,
  },
  {
    version: 15,
    sql: `
      -- Issue 12, message timeline: per attempt the remote IP the session connected to and how long
      -- the attempt took (null: before v16, local delivery, or no host reached); per message its
      -- Subject (decoded, at most 200 characters; null: before v16 or none) for the subject search.
      ALTER TABLE attempt ADD COLUMN remote_ip text;
      ALTER TABLE attempt ADD COLUMN duration_ms bigint;
      ALTER TABLE queued_message ADD COLUMN subject text;
    `,
  },
  {
    version: 16,
    sql: `
      -- Issue 12, the queue overview under 300 ms at 100,000 waiting messages: the waiting
      -- recipients (queued, deferred, delivering, held) counted per (account, domain, state),
      -- kept exact by statement triggers on recipient (every insert, delete, a message's cascade
      -- too, and state change, in its own transaction). As with the statistics (stat_delta), the
      -- triggers only append deltas (no lock on a hot counter row: concurrent puts to one domain
      -- would otherwise queue behind each other's commit); compactStats folds them into
      -- queue_count; reads add both. A recipient carries its message's account and receive time
      -- (never change), and recipient_waiting answers the oldest of each group with one index seek.
      ALTER TABLE recipient ADD COLUMN account text NOT NULL DEFAULT '';
      ALTER TABLE recipient ADD COLUMN received_at bigint NOT NULL DEFAULT 0;
      UPDATE recipient r SET account = m.account, received_at = m.received_at FROM queued_message m WHERE m.id = r.message_id;
      CREATE INDEX recipient_waiting ON recipient (account, domain, state, received_at)
        WHERE state IN ('queued', 'deferred', 'delivering', 'held');
      CREATE TABLE queue_count (
        account text NOT NULL,
        domain  text NOT NULL,
        state   text NOT NULL,
        n       bigint NOT NULL,
        PRIMARY KEY (account, domain, state)
      );
      CREATE TABLE queue_count_delta (
        id      bigserial PRIMARY KEY,
        account text NOT NULL,
        domain  text NOT NULL,
        state   text NOT NULL,
        n       bigint NOT NULL
      );
      INSERT INTO queue_count (account, domain, state, n)
        SELECT account, domain, state, count(*) FROM recipient WHERE state IN ('queued', 'deferred', 'delivering', 'held') GROUP BY account, domain, state;
      CREATE FUNCTION queue_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO queue_count_delta (account, domain, state, n)
          SELECT account, domain, state, count(*) FROM new_rows WHERE state IN ('queued', 'deferred', 'delivering', 'held') GROUP BY account, domain, state;
        RETURN NULL;
      END $$;
      CREATE FUNCTION queue_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO queue_count_delta (account, domain, state, n)
          SELECT account, domain, state, -count(*) FROM old_rows WHERE state IN ('queued', 'deferred', 'delivering', 'held') GROUP BY account, domain, state;
        RETURN NULL;
      END $$;
      CREATE FUNCTION queue_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO queue_count_delta (account, domain, state, n)
          SELECT account, domain, state, sum(d) FROM (
            SELECT account, domain, state, 1 AS d FROM new_rows WHERE state IN ('queued', 'deferred', 'delivering', 'held')
            UNION ALL SELECT account, domain, state, -1 FROM old_rows WHERE state IN ('queued', 'deferred', 'delivering', 'held')) AS moved
          GROUP BY account, domain, state HAVING sum(d) <> 0;
        RETURN NULL;
      END $$;
      CREATE TRIGGER queue_count_insert AFTER INSERT ON recipient REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION queue_count_inserted();
      CREATE TRIGGER queue_count_delete AFTER DELETE ON recipient REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION queue_count_deleted();
      CREATE TRIGGER queue_count_update AFTER UPDATE ON recipient REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION queue_count_updated();
    `,
  },
  {
    version: 17,
    sql: `
      -- Issue 12, message search by recipient under 300 ms: the search drives from the recipients with
      -- that address (lower-cased, as the search compares) to their messages, where it probed every
      -- message of the account for one (627 ms at 100,000 messages for an address with no mail). An
      -- address never changes, so only intake writes this index, never a state change.
      CREATE INDEX recipient_address ON recipient (lower(address), message_id);
    `,
  },
  {
    version: 18,
    sql: `
      -- Issue 14, the queue counters' cost on delivery: recipient_waiting (v16) held 'delivering'
      -- too, so each claim (a new row version in 'delivering') added an entry to it. recipient_unclaimed
      -- leaves 'delivering' out: neither a claim nor a delivery adds to it.
      CREATE INDEX recipient_unclaimed ON recipient (account, domain, state, received_at)
        WHERE state IN ('queued', 'deferred', 'held');
      DROP INDEX recipient_waiting;
      -- Nor are delivering recipients counted any more: a claim appends one delta per group (not
      -- two) and a delivery (delivering -> delivered) none. The delivering ones are few (the ones
      -- in flight), so the overview counts them, and finds their oldest, by reading them. The
      -- compaction's lock (compactQueueCounts) keeps a fold from running across the cleanup.
      SELECT pg_advisory_xact_lock(8101821198534536807);
      DELETE FROM queue_count_delta WHERE state NOT IN ('queued', 'deferred', 'held');
      DELETE FROM queue_count WHERE state NOT IN ('queued', 'deferred', 'held');
      CREATE OR REPLACE FUNCTION queue_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO queue_count_delta (account, domain, state, n)
          SELECT account, domain, state, count(*) FROM new_rows WHERE state IN ('queued', 'deferred', 'held') GROUP BY account, domain, state;
        RETURN NULL;
      END $$;
      CREATE OR REPLACE FUNCTION queue_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO queue_count_delta (account, domain, state, n)
          SELECT account, domain, state, -count(*) FROM old_rows WHERE state IN ('queued', 'deferred', 'held') GROUP BY account, domain, state;
        RETURN NULL;
      END $$;
      CREATE OR REPLACE FUNCTION queue_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO queue_count_delta (account, domain, state, n)
          SELECT account, domain, state, sum(d) FROM (
            SELECT account, domain, state, 1 AS d FROM new_rows WHERE state IN ('queued', 'deferred', 'held')
            UNION ALL SELECT account, domain, state, -1 FROM old_rows WHERE state IN ('queued', 'deferred', 'held')) AS moved
          GROUP BY account, domain, state HAVING sum(d) <> 0;
        RETURN NULL;
      END $$;
    `,
  },
  {
    version: 19,
    sql: `
      -- Issue 14, the breaker counters' hot rows: a result that only adds volume (a delivery) when
      -- the scope's window already has its minimum volume and stays under every threshold cannot
      -- trip anything, so it adds to a shard of its own (1..16, by backend) in breaker_counter_shard
      -- instead of the breaker_counter row every other result of the account waits on
      -- (breaker-ops.ts). Sums read both tables; compactStats folds past buckets' shards into
      -- breaker_counter. A table of its own, not a shard column in breaker_counter's key: a node of
      -- the previous release, still running while its peers roll forward, upserts breaker_counter
      -- ON CONFLICT on its four-column key, which must stay.
      CREATE TABLE breaker_counter_shard (
        scope_type text NOT NULL,
        scope_key  text NOT NULL,
        bucket     bigint NOT NULL,
        counter    text NOT NULL,
        shard      smallint NOT NULL,
        n          bigint NOT NULL,
        PRIMARY KEY (scope_type, scope_key, bucket, counter, shard)
      );
      CREATE INDEX breaker_counter_shard_bucket ON breaker_counter_shard (bucket);
    `,
  },
  {
    version: 20,
    sql: `
      -- Issue 14, PostgreSQL's CPU a message: every body over ~2 KB was compressed with pglz on
      -- insert (the default) and decompressed by each read. lz4 compresses and decompresses several
      -- times faster, for about 30 % more stored bytes on mail (bench/README.md, twenty-sixth session, pg26).
      -- New bodies only (a stored one keeps its method until rewritten). A server built without lz4
      -- (or older than 14) keeps pglz: the migration must not stop a node starting.
      DO $$ BEGIN
        EXECUTE 'ALTER TABLE message_body ALTER COLUMN data SET COMPRESSION lz4';
      EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
        RAISE NOTICE 'message_body keeps pglz: %', SQLERRM;
      END $$;
    `,
  },
];

/** Arbitrary constant naming Postlane's migration lock ('postlane' as hex, fits an int8). */
const MIGRATION_LOCK = '8101821198534536805';

/** Brings the database to the latest version under an advisory lock; returns that version. */
export async function migrate(client: pg.PoolClient): Promise<number> {
  const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
                          version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const current = rows[0]?.v ?? 0;
    if (current > latest) throw new Error(`queue database schema v${current} is newer than this Postlane (v${latest})`);
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
    return latest;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
