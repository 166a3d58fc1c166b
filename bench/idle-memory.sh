#!/usr/bin/env bash
# Idle memory of the relay, checkouts interleaved: bench/idle-memory.sh REPS ROOT... (each ROOT a
# checkout with a built dist/). Each run starts ROOT/bin/postlane.js (its launcher's V8 flags) on
# a fresh data directory, the API on and unused, metrics off; prints RSS and PSS (MB) 30 s after
# start, then 5 s after one GET /healthz (the API is built at its first request), and how long
# that first request took. Addresses 127.0.41.1:18525 (SMTP) and :18526 (HTTP); IDLE_HOST and
# IDLE_PORT (SMTP; HTTP is the next port) pick others when another bench runs. IDLE_LATE=S adds a
# reading S seconds after the first request's: Node 24/26's memory reducer first runs 30-60 s after
# start, so their 30-s reading is start-up's high-water mark (bench/README.md, thirtieth session, mem30).
set -u
REPS=$1; shift
H=${IDLE_HOST:-127.0.41.1} P=${IDLE_PORT:-18525}
for rep in $(seq "$REPS"); do
  for root in "$@"; do
    d=$(mktemp -d /tmp/idle-mem.XXXX)
    cat > "$d/c.yaml" <<Y
hostname: relay.bench.test
dataDir: $d/data
metrics: false
smtp: { submission: false, submissions: false, mx: false, alt: { host: $H, port: $P }, relayNetworks: [127.0.0.0/8] }
delivery: { smarthost: "127.0.41.9:18599", tls: none }
http: { host: $H, port: $((P + 1)) }
log: { level: warn }
Y
    "$root/bin/postlane.js" start --config "$d/c.yaml" > "$d/log" 2>&1 &
    pid=$!
    sleep 30
    mem() { awk '/^Rss:/{r=$2}/^Pss:/{p=$2}END{printf "%d %d", r/1024, p/1024}' "/proc/$pid/smaps_rollup"; }
    idle=$(mem)
    first=$(curl -s -o /dev/null -w '%{http_code} %{time_total}s' http://$H:$((P + 1))/healthz); sleep 5
    after=$(mem); late=
    [ -n "${IDLE_LATE:-}" ] && { sleep "$IDLE_LATE"; late=" late_${IDLE_LATE}s=$(mem)"; }
    echo "rep=$rep root=$root node=$(node -v) idle_rss_pss_mb=$idle after_first_request=$after$late first_request=$first load=$(cut -d' ' -f1 /proc/loadavg)"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null; rm -rf "$d"
  done
done
