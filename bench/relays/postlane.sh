# relay-bench plugin for Postlane (bench/run.sh copies it into the harness's relays/).
# Postlane listens on $RELAY_HOST:$RELAY_PORT (the `alt` listener, which takes mail from
# smtp.relayNetworks without AUTH, like Postfix mynetworks) and sends everything to smtp-sink
# through its smarthost setting. Env: BENCH_POSTLANE_ROOT (checkout with a built dist/).

relay_setup() {
    mkdir -p "$RELAY_DIR/log"
    cat > "$RELAY_DIR/postlane.yaml" <<EOF
hostname: relay.bench.test
dataDir: $RELAY_DIR/data
metrics: false
http: { host: $RELAY_HOST, port: 0 }  # unused here; off the default 127.0.0.1:8025 so that two relays can run side by side
smtp:
  submission: false
  submissions: false
  mx: false
  alt: { host: $RELAY_HOST, port: $RELAY_PORT }
  relayNetworks: [127.0.0.0/8]
  maxConnectionsPerIp: 1000
delivery:
  smarthost: "$SINK_HOST:$SINK_PORT"
  tls: none
  concurrency: 40
  maxConnectionsPerDestination: 40
log: { level: warn }
EOF
}

relay_start() {
    # As deployed: the launcher itself, so its shebang's V8 flags apply (BENCH_POSTLANE_NODE=node: without them;
    # not POSTLANE_*, which the relay reads as configuration).
    setsid ${BENCH_POSTLANE_NODE:-} "${BENCH_POSTLANE_ROOT:?set BENCH_POSTLANE_ROOT}/bin/postlane.js" start --config "$RELAY_DIR/postlane.yaml" \
        >"$RELAY_DIR/log/relay.log" 2>&1 </dev/null &
    echo $! > "$RELAY_DIR/relay.pid"
}

relay_stop() {
    local pid; pid=$(cat "$RELAY_DIR/relay.pid" 2>/dev/null) || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
}

relay_queue_count() {
    # recipients not yet final (queued + deferred + delivering + held)
    node "$BENCH_POSTLANE_ROOT/bin/postlane.js" queue stats --json --config "$RELAY_DIR/postlane.yaml" 2>/dev/null \
        | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s);console.log(c.queued+c.deferred+c.delivering+c.held)})' \
        || echo -1
}
