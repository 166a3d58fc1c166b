export PATH=/tmp/postlane-node26.I42uft/bin:$PATH
PL_ROOT=/tmp/postlane-node26.I42uft/tree PL_FLAGS="--max-semi-space-size=2 --heap-growing-percent=30" PL_PRELOAD=/work/main/bench/mem-sample-spaces.cjs
export BENCH_POSTLANE_ROOT=$PL_ROOT; source "$(dirname "${BASH_SOURCE[0]}")/postlane-variant.sh"
eval "orig2_$(declare -f relay_start)"
relay_start() { orig2_relay_start; sleep 0.3; python3 /work/main/bench/smaps-peak.py "$(cat "$RELAY_DIR/relay.pid")" "$RELAY_DIR/log" & }
