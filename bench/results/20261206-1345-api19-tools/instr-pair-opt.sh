#!/bin/bash
# instr-pair.sh with INSTR_TIER=opt (TurboFan on: +-5 %, not the yardstick; bench/instr.sh header)
R=$1; OUT=$2; A=$3; B=$4
cd /work/wt-api19
for i in $(seq 1 $R); do
  INSTR_TIER=opt INSTR_HOST=127.0.63.1 INSTR_SINK_HOST=127.0.63.9 INSTR_PORT=28125 INSTR_SLOT=0 INSTR_C=50 INSTR_WARM=200 INSTR_DUMPS=/tmp/api19-instr/dumps nice -n 5 bench/instr.sh $A 600 api $OUT > /tmp/api19-instr/optA-$i.log 2>&1 &
  p1=$!
  INSTR_TIER=opt INSTR_HOST=127.0.63.1 INSTR_SINK_HOST=127.0.63.9 INSTR_PORT=28125 INSTR_SLOT=1 INSTR_C=50 INSTR_WARM=200 INSTR_DUMPS=/tmp/api19-instr/dumps nice -n 5 bench/instr.sh $B 600 api $OUT > /tmp/api19-instr/optB-$i.log 2>&1 &
  p2=$!
  wait $p1 $p2
done
