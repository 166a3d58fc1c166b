#!/usr/bin/env bash
# variants.sh REPS OUT: each variant line "label|root|pathdir|flags"; from stdin; all variants of a rep run concurrently
REPS=$1 OUT=$2; mapfile -t V
for rep in $(seq $REPS); do
  pids=(); i=0
  for v in "${V[@]}"; do IFS='|' read -r label root pd flags <<<"$v"; pids+=($(/tmp/mem30/startf.sh $root $pd $((46430 + 2*i)) $flags)); i=$((i+1)); done
  for t in 30 60 90; do
    sleep $(( t == 30 ? 30 : 30 ))
    i=0; for v in "${V[@]}"; do label=${v%%|*}; p=${pids[$i]}
      [ $t = 60 ] && [ $i = 0 ] && for j in "${!V[@]}"; do curl -s -o /dev/null http://127.0.64.1:$((46431 + 2*j))/healthz; done
      echo "rep=$rep t=$t label=$label $(awk '/^(Rss|Anonymous):/{printf "%s=%.1f ", $1, $2/1024}' /proc/$p/smaps_rollup) threads=$(ls /proc/$p/task | wc -l)" | tee -a $OUT
      i=$((i+1)); done
  done
  kill ${pids[@]}; sleep 2
done
