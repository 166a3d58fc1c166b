CREATE TABLE stat_delta (id bigserial PRIMARY KEY, account text NOT NULL, grain text NOT NULL, bucket bigint NOT NULL, stream text NOT NULL, key text NOT NULL, metric text NOT NULL, n bigint NOT NULL);
CREATE TABLE stat_counter (account text NOT NULL, grain text NOT NULL, bucket bigint NOT NULL, stream text NOT NULL, key text NOT NULL, metric text NOT NULL, n bigint NOT NULL, PRIMARY KEY (account, grain, bucket, stream, key, metric));
CREATE INDEX stat_counter_bucket ON stat_counter (grain, bucket);
-- 30 s of deltas at 1,000 msg/s, 4 rows a message (hour + domain grains), current hour/day
INSERT INTO stat_delta (account, grain, bucket, stream, key, metric, n)
SELECT 'acct' || (i % 5), CASE WHEN i % 2 = 0 THEN 'hour' ELSE 'domain' END, CASE WHEN i % 2 = 0 THEN 1796000000000 - (1796000000000 % 3600000) ELSE 1796000000000 - (1796000000000 % 86400000) END,
 'broadcast', CASE WHEN i % 2 = 0 THEN '' ELSE 'd' || (i % 50) || '.example' END, CASE WHEN i % 4 < 2 THEN 'accepted' ELSE 'delivered' END, 1 FROM generate_series(1, 120000) i;
-- 90 days of counters
INSERT INTO stat_counter SELECT 'acct' || a, 'hour', 1796000000000 - (1796000000000 % 3600000) - h::bigint * 3600000, 'broadcast', '', m, 100 FROM generate_series(0,4) a, generate_series(0, 2160) h, unnest(array['accepted','delivered','bounced','deferred']) m;
VACUUM ANALYZE;
\timing on
EXPLAIN (ANALYZE, COSTS OFF) SELECT CAST(bucket AS text) AS k, metric, CAST(SUM(n) AS bigint) AS n FROM (SELECT account, grain, bucket, stream, key, metric, n FROM stat_counter UNION ALL SELECT account, grain, bucket, stream, key, metric, n FROM stat_delta) AS c WHERE grain = 'hour' AND account = 'acct1' AND bucket >= 1795913600000 AND bucket < 1796000000001 GROUP BY 1, metric;
CREATE INDEX stat_delta_bucket ON stat_delta (grain, bucket); ANALYZE stat_delta;
EXPLAIN (ANALYZE, COSTS OFF) SELECT CAST(bucket AS text) AS k, metric, CAST(SUM(n) AS bigint) AS n FROM (SELECT account, grain, bucket, stream, key, metric, n FROM stat_counter UNION ALL SELECT account, grain, bucket, stream, key, metric, n FROM stat_delta) AS c WHERE grain = 'hour' AND account = 'acct1' AND bucket >= 1795913600000 AND bucket < 1796000000001 GROUP BY 1, metric;
-- a past window (yesterday only): the index's best case
EXPLAIN (ANALYZE, COSTS OFF) SELECT metric, SUM(n) FROM (SELECT account, grain, bucket, stream, key, metric, n FROM stat_counter UNION ALL SELECT account, grain, bucket, stream, key, metric, n FROM stat_delta) AS c WHERE grain = 'hour' AND account = 'acct1' AND bucket >= 1795800000000 AND bucket < 1795900000000 GROUP BY metric;
DROP INDEX stat_delta_bucket;
EXPLAIN (ANALYZE, COSTS OFF) SELECT metric, SUM(n) FROM (SELECT account, grain, bucket, stream, key, metric, n FROM stat_counter UNION ALL SELECT account, grain, bucket, stream, key, metric, n FROM stat_delta) AS c WHERE grain = 'hour' AND account = 'acct1' AND bucket >= 1795800000000 AND bucket < 1795900000000 GROUP BY metric;
