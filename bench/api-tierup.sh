#!/usr/bin/env bash
# The HTTP API relay's JIT tier-up, in chunks: bench/api-promoted.sh's run on SQLite with TRACE_FLAGS defaulting to
# --trace-opt --trace-deopt-verbose (the traces in OUT) and a 'cpu' line written into OUT after the warm-up and each chunk,
# so that bench/api-tierup.py OUT WARM,MSGS,MSGS,... counts the TurboFan compilations and deopts of each chunk and its
# relay / main-thread CPU a message (bench/README.md, twenty-fourth session, api24).
#   bench/api-tierup.sh ROOT OUT [WARM=100] [MSGS=1000] [CHUNKS=6]    (PL_BENCH_API_HOST / PL_BENCH_API_PORT as api-send)
set -euo pipefail
TRACE_FLAGS=${TRACE_FLAGS:-"--trace-opt --trace-deopt-verbose"} exec "$(dirname "$0")/api-promoted.sh" "$1" "$2" sqlite "${3:-100}" "${4:-1000}" "${5:-6}"
