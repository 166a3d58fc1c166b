# relay-bench plugin: N Postlane nodes behind HAProxy (bench/cluster.sh copies it into the harness).
# HAProxy listens on $RELAY_HOST:$RELAY_PORT and spreads client connections round-robin over the
# nodes (each on the `alt` listener, port RELAY_PORT+i); every node sends everything to smtp-sink
# through its smarthost. Env: BENCH_POSTLANE_ROOT (checkout with a built dist/), CLUSTER_NODES
# (1..3, default 1), CLUSTER_PER_DEST (delivery.maxConnectionsPerDestination, default 40, as the
# concurrency), CLUSTER_STORE (pg | sqlite, default pg; sqlite needs 1 node), CLUSTER_PG_URL
# (server admin URL, default postgres://postgres@127.0.0.1:5432/postgres), CLUSTER_DB_PREFIX (default
# postlane_bench), CLUSTER_NODE_FLAGS (node flags for every node, after the launcher's own: CLUSTER_LAUNCHER=0 drops those). With pg each run gets a
# fresh database, dropped by relay_stop. HAProxy runs in the measured process tree; PostgreSQL
# does not: the CPU of the backends serving the run's database is written to RELAY_DIR/pg_cpu_s
# (bench/cluster.sh adds it to the result line), and per backend (CPU ticks, context switches, last
# statement) to RELAY_DIR/pg_backends.tsv.

cluster_db_name() { echo "${CLUSTER_DB_PREFIX:-postlane_bench}_$(basename "$RELAY_DIR" | tr -c 'a-zA-Z0-9\n' '_' | tail -c 40)_$$"; }

relay_setup() {
    local nodes=${CLUSTER_NODES:-1} store=${CLUSTER_STORE:-pg} admin=${CLUSTER_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
    mkdir -p "$RELAY_DIR/log"
    local storage="" db
    if [ "$store" = pg ]; then
        db=$(cluster_db_name)
        psql -q "$admin" -c "CREATE DATABASE $db" >/dev/null
        echo "$db" > "$RELAY_DIR/dbname"
        # CLUSTER_STATS_DIR (a private server with pg_stat_statements): the counters start at this run
        if [ -n "${CLUSTER_STATS_DIR:-}" ]; then
            psql -qAt "$admin" -c "SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal'), pg_current_wal_lsn()" > "$RELAY_DIR/wal_start" 2>/dev/null || true
        fi
        storage="storage: { url: \"${admin%/*}/$db\", poolSize: 10 }"
    fi
    local servers=""
    for i in $(seq 1 "$nodes"); do
        local port=$((RELAY_PORT + i))
        servers="$servers    server node$i $RELAY_HOST:$port
"
        cat > "$RELAY_DIR/node$i.yaml" <<EOF
hostname: relay.bench.test
dataDir: $RELAY_DIR/data$i
$storage
http: false
metrics: false
smtp:
  submission: false
  submissions: false
  mx: false
  alt: { host: $RELAY_HOST, port: $port }
  relayNetworks: [127.0.0.0/8]
  maxConnectionsPerIp: 1000
delivery:
  smarthost: "$SINK_HOST:$SINK_PORT"
  tls: none
  concurrency: 40
  maxConnectionsPerDestination: ${CLUSTER_PER_DEST:-40}
log: { level: warn }
EOF
    done
    cat > "$RELAY_DIR/haproxy.cfg" <<EOF
global
    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend smtp
    bind $RELAY_HOST:$RELAY_PORT
    default_backend nodes
backend nodes
    balance roundrobin
$servers
EOF
}

relay_start() {
    local nodes=${CLUSTER_NODES:-1}
    for i in $(seq 1 "$nodes"); do
        # Each node starts as production does: with the launcher's own first line (`env -S [VAR=…] node <V8 flags>`,
        # bin/postlane.js), then CLUSTER_NODE_FLAGS (node's own flags, e.g. "--cpu-prof --cpu-prof-dir=DIR", not
        # allowed in NODE_OPTIONS). CLUSTER_LAUNCHER=0 runs plain `node` as before 2026-12-07 (no launcher flags).
        local launcher=node
        if [ "${CLUSTER_LAUNCHER:-1}" != 0 ]; then
            launcher=$(head -n 1 "${BENCH_POSTLANE_ROOT:?set BENCH_POSTLANE_ROOT}/bin/postlane.js" | sed -n 's|^#!/usr/bin/env -S ||p')
            [ -n "$launcher" ] || launcher=node
        fi
        # shellcheck disable=SC2086  # the launcher's words and CLUSTER_NODE_FLAGS are split on purpose
        setsid env $launcher ${CLUSTER_NODE_FLAGS:-} "${BENCH_POSTLANE_ROOT:?set BENCH_POSTLANE_ROOT}/bin/postlane.js" start --config "$RELAY_DIR/node$i.yaml" \
            >"$RELAY_DIR/log/node$i.log" 2>&1 </dev/null &
        echo $! > "$RELAY_DIR/node$i.pid"
    done
    # every node answers before HAProxy takes connections (the harness waits for one 220 only)
    for i in $(seq 1 "$nodes"); do
        for _ in $(seq 200); do
            (exec 3<>"/dev/tcp/$RELAY_HOST/$((RELAY_PORT + i))") 2>/dev/null && break
            sleep 0.1
        done
    done
    setsid haproxy -db -f "$RELAY_DIR/haproxy.cfg" >"$RELAY_DIR/log/haproxy.log" 2>&1 </dev/null &
    echo $! > "$RELAY_DIR/haproxy.pid"
}

cluster_kill() { # cluster_kill PIDFILE
    local pid; pid=$(cat "$1" 2>/dev/null) || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
}

relay_stop() {
    cluster_kill "$RELAY_DIR/haproxy.pid"
    for f in "$RELAY_DIR"/node*.pid; do [ -e "$f" ] && cluster_kill "$f"; done
    local db; db=$(cat "$RELAY_DIR/dbname" 2>/dev/null) || return 0
    psql -q "${CLUSTER_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -f "$RELAY_DIR/dbname"
}

cluster_pg_cpu() { # CPU seconds of the PostgreSQL backends serving this run's database (live ones)
    local db; db=$(cat "$RELAY_DIR/dbname" 2>/dev/null) || { echo 0; return; }
    python3 - "$db" <<'PY'
import os, sys
db, clk, total = sys.argv[1], os.sysconf("SC_CLK_TCK"), 0
for p in os.listdir("/proc"):
    if not p.isdigit(): continue
    try:
        cmd = open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        if not cmd.startswith("postgres: ") or f" {db} " not in cmd: continue
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        total += int(f[11]) + int(f[12])
    except OSError:
        pass
print(round(total / clk, 2))
PY
}

cluster_pg_backends() { # per backend of this run's database (live ones): pid, CPU ticks, voluntary and involuntary context switches, its last statement
    local db; db=$(cat "$RELAY_DIR/dbname" 2>/dev/null) || return 0
    psql -qAt -F $'\t' "${CLUSTER_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
        -c "SELECT pid, left(regexp_replace(query, '\s+', ' ', 'g'), 70) FROM pg_stat_activity WHERE datname = '$db' AND pid <> pg_backend_pid()" 2>/dev/null \
    | python3 -c '
import sys
for line in sys.stdin:
    pid, _, q = line.rstrip("\n").partition("\t")
    try:
        st = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        cs = {k: v.strip() for k, v in (l.split(":", 1) for l in open(f"/proc/{pid}/status") if "ctxt_switches" in l)}
    except OSError:
        continue
    print(pid, int(st[11]) + int(st[12]), cs["voluntary_ctxt_switches"], cs["nonvoluntary_ctxt_switches"], q, sep="\t")'
}

cluster_pg_stats() { # CLUSTER_STATS_DIR/<db>.{statements,wal,tables,indexes}.tsv: what this run's database did
    local db admin=${CLUSTER_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres} out; db=$(cat "$RELAY_DIR/dbname" 2>/dev/null) || return 0
    mkdir -p "$CLUSTER_STATS_DIR"; out=$CLUSTER_STATS_DIR/$(date +%H%M%S)-${VARIANT// /_}
    psql -qAt -F $'\t' "$admin" -c "SELECT s.calls, s.rows, round(s.total_exec_time::numeric, 1), round(s.total_plan_time::numeric, 1), s.shared_blks_hit, s.shared_blks_dirtied, s.shared_blks_written,
        s.wal_records, s.wal_fpi, s.wal_bytes, s.toplevel, left(regexp_replace(s.query, '\s+', ' ', 'g'), 160)
        FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$db' ORDER BY s.wal_bytes DESC" > "$out.statements.tsv" 2>/dev/null || true
    { cat "$RELAY_DIR/wal_start" 2>/dev/null
      psql -qAt -F $'\t' "$admin" -c "SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync, round(wal_write_time::numeric,1), round(wal_sync_time::numeric,1), pg_current_wal_lsn() FROM pg_stat_wal"; } > "$out.wal.tsv" 2>/dev/null || true
    psql -qAt -F $'\t' "${admin%/*}/$db" -c "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, pg_relation_size(relid), pg_total_relation_size(relid) FROM pg_stat_user_tables ORDER BY n_tup_ins + n_tup_upd DESC" > "$out.tables.tsv" 2>/dev/null || true
    psql -qAt -F $'\t' "${admin%/*}/$db" -c "SELECT s.relname, s.indexrelname, s.idx_blks_hit, s.idx_blks_read, pg_relation_size(s.indexrelid) FROM pg_statio_user_indexes s ORDER BY s.idx_blks_hit DESC" > "$out.indexes.tsv" 2>/dev/null || true
    psql -qAt -F $'\t' "${admin%/*}/$db" -c "SELECT relname, heap_blks_hit, toast_blks_hit, tidx_blks_hit FROM pg_statio_user_tables ORDER BY heap_blks_hit DESC" > "$out.heapio.tsv" 2>/dev/null || true
    # CLUSTER_WALDUMP=PGDATA (the private server's data directory, readable here): this run's WAL by relation
    if [ -n "${CLUSTER_WALDUMP:-}" ]; then
        local start end; start=$(cut -d'|' -f3 "$RELAY_DIR/wal_start"); end=$(psql -qAt "$admin" -c "SELECT pg_current_wal_insert_lsn()")
        python3 "${CLUSTER_WALDUMP_TOOL:-/dev/null}" "$CLUSTER_WALDUMP" "$start" "$end" "${admin%/*}/$db" "${CLUSTER_MSGS:-1}" > "$out.wal-by-relation.tsv" 2>&1 || true
    fi
}

relay_queue_count() {
    # (called once, after the measured run) PostgreSQL backend CPU since start, warm-up included
    cluster_pg_cpu > "$RELAY_DIR/pg_cpu_s"
    cluster_pg_backends > "$RELAY_DIR/pg_backends.tsv" || true
    [ -n "${CLUSTER_STATS_DIR:-}" ] && cluster_pg_stats
    # per node since its start: read/write-class syscalls (/proc/PID/io syscr, syscw) and context
    # switches over its threads (voluntary, involuntary): counts the machine's load hardly moves
    for f in "$RELAY_DIR"/node*.pid; do
        local pid; pid=$(cat "$f")
        { awk '/^sysc/ {printf "%s %s ", $1, $2}' "/proc/$pid/io"
          cat /proc/"$pid"/task/*/status | awk '/^voluntary_ctxt/ {v += $2} /^nonvoluntary_ctxt/ {n += $2} END {printf "vol_cs: %d invol_cs: %d ", v, n}'
          awk '{printf "utime_ticks: %d stime_ticks: %d\n", $14, $15}' "/proc/$pid/stat"
        } > "${f%.pid}.counts" 2>/dev/null || true
    done
    # recipients not yet final, over the cluster (one node's CLI sees the shared queue)
    node "$BENCH_POSTLANE_ROOT/bin/postlane.js" queue stats --json --config "$RELAY_DIR/node1.yaml" 2>/dev/null \
        | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s);console.log(c.queued+c.deferred+c.delivering+c.held)})' \
        || echo -1
}
