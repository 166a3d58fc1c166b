#!/usr/bin/env python3
"""instr-summary.py RUNS.jsonl...: bench/instr.sh's lines as a table, with program_net: the program part
less the timers' share (the idle dump's program part per second x the load's seconds / N; under
valgrind the load lasts minutes, and the relay's 1 s polls cost ~0.45 M instructions a second).
The idle dump's GC is left out of that rate: the memory reducer runs there after the load."""
import json, sys, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
split = __import__('instr-split').split

rows = []
for path in sys.argv[1:]:
    for line in open(path):
        d = json.loads(line)
        idle = split(d['dumps'] + '.idle')
        idle_prog = idle['total'] - idle['v8_gc'] - idle['v8_compiler']
        idle_s = d.get('idle_s') or (idle['total'] / d['idle_ir_per_s'] if d.get('idle_ir_per_s') else 8.0)
        net = d['program_per_msg'] - idle_prog / idle_s * d['load_s'] / d['n']
        rows.append((d['rev'], ('base' if '--no-opt' in d['v8'] else 'opt') + ('/quiet' if d.get('timers') == 'off' else ''), d['warm'], d['n'], d['load_s'],
                     d['instr_per_msg'], d['parts_per_msg']['v8_compiler'], d['parts_per_msg']['v8_gc'],
                     d['program_per_msg'], round(net)))
print(f"{'rev':16} {'tier':10} {'warm':>4} {'n':>4} {'load_s':>6} {'total/msg':>10} {'compiler':>9} {'gc':>9} {'program':>9} {'prog_net':>9}")
for r in rows:
    print(f"{r[0]:16} {r[1]:10} {r[2]:>4} {r[3]:>4} {r[4]:>6} {r[5]:>10,} {r[6]:>9,} {r[7]:>9,} {r[8]:>9,} {r[9]:>9,}")
