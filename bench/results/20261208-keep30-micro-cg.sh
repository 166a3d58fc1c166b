#!/bin/bash
# micro-cg.sh BUILD N -> total Ir of node micro.mjs BUILD N under callgrind (instr.sh's V8 flags)
B=$1 N=$2; out=/tmp/keep30/cg-micro-$(basename $B)-$N.out
valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=$out node --max-semi-space-size=2 --heap-growing-percent=30 --single-threaded --random-seed=1 --hash-seed=1 --no-memory-reducer --no-opt /tmp/keep30/micro.mjs $B $N > /dev/null 2>/tmp/keep30/cg-micro.err
awk '/^(summary|totals):/ {print $2; exit}' $out
