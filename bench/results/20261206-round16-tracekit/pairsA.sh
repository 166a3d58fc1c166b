#!/usr/bin/env bash
# pairsA.sh OUT REPS N A B: accept-only interleaved runs (relay-bench -A) of plugins A and B
OUT=$1 REPS=$2 N=$3; shift 3; S=("$@")
cd /tmp/round16-bench
export RELAY_HOST=127.0.61.1 SINK_HOST=127.0.61.9 RELAY_PORT=46125 SINK_PORT=46199
for rep in $(seq $REPS); do
  if [ $((rep % 2)) -eq 1 ]; then order=("${S[@]}"); else order=(); for ((k=${#S[@]}-1;k>=0;k--)); do order+=("${S[k]}"); done; fi
  for s in "${order[@]}"; do
    echo "=== $(date +%T) rep=$rep $s load $(cut -d' ' -f1 /proc/loadavg)" >&2
    nice -n 5 ./relay-bench.sh -r $s -A -l A$N -o $OUT -T 600 -n $N -c 20 -s 4096 -R 1 2>/dev/null | grep -E '"(accept_msgs_per_s|relay_cpu_s_per_1k|machine_busy_pct)"' | tr -d '\n' >&2; echo >&2
    sleep 2
  done
done
