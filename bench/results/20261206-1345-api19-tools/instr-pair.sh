#!/bin/bash
# usage: instr-pair.sh ROUNDS OUT.jsonl A_BUILD B_BUILD  (A on slot 0, B on slot 1, side by side, each round)
R=$1; OUT=$2; A=$3; B=$4
cd /work/wt-api19
for i in $(seq 1 $R); do
  INSTR_HOST=127.0.63.1 INSTR_SINK_HOST=127.0.63.9 INSTR_PORT=28125 INSTR_SLOT=0 INSTR_C=50 INSTR_WARM=200 INSTR_DUMPS=/tmp/api19-instr/dumps nice -n 5 bench/instr.sh $A 600 api $OUT > /tmp/api19-instr/pairA-$i.log 2>&1 &
  p1=$!
  INSTR_HOST=127.0.63.1 INSTR_SINK_HOST=127.0.63.9 INSTR_PORT=28125 INSTR_SLOT=1 INSTR_C=50 INSTR_WARM=200 INSTR_DUMPS=/tmp/api19-instr/dumps nice -n 5 bench/instr.sh $B 600 api $OUT > /tmp/api19-instr/pairB-$i.log 2>&1 &
  p2=$!
  wait $p1 $p2
done
