# relay-bench plugin: Postlane from another checkout or with other V8 flags/environment, for
# interleaved memory comparisons (bench/README.md "Memory"). Copy it and relays/postlane.sh into
# the harness's relays/ with one small file per system, e.g. relays/ss2.sh:
#   PL_ROOT=/path/to/checkout PL_FLAGS="--max-semi-space-size=2 --heap-growing-percent=30" PL_ENV="UV_THREADPOOL_SIZE=2"
#   export BENCH_POSTLANE_ROOT=$PL_ROOT; source "$(dirname "${BASH_SOURCE[0]}")/postlane-variant.sh"
# then run-anchors.sh i-3k 2 OUT.jsonl base ss2 … (set SINK_HOST/RELAY_HOST to free addresses if another
# bench runs). The API listens on RELAY_PORT + 1, unused, as in production. PL_PRELOAD=…/bench/mem-sample.cjs
# samples the heaps into the run's relay/log/ (kept after the run).
source "$(dirname "${BASH_SOURCE[0]}")/postlane.sh"
relay_start() {
    mkdir -p "$RELAY_DIR/log"
    MEM_SAMPLE_DIR=$RELAY_DIR/log setsid env ${PL_ENV:-} node ${PL_FLAGS:-} ${PL_PRELOAD:+--require "$PL_PRELOAD"} "${PL_ROOT:?}/bin/postlane.js" start --config "$RELAY_DIR/postlane.yaml" \
        >"$RELAY_DIR/log/relay.log" 2>&1 </dev/null &
    echo $! > "$RELAY_DIR/relay.pid"
}
eval "orig_$(declare -f relay_setup)"
# relays/postlane.sh writes an http: line of its own (port 0): replaced, not appended (a second key is invalid YAML)
relay_setup() { orig_relay_setup; sed -i '/^http:/d' "$RELAY_DIR/postlane.yaml"; printf 'http: { host: %s, port: %s }\n' "$RELAY_HOST" "$((RELAY_PORT + 1))" >> "$RELAY_DIR/postlane.yaml"; }
