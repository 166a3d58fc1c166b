# 20261207-clos24-instr-ratios.py OUT.jsonl: bench/instr.sh lines of base (/tmp/clos24-base) and variant (any other build),
# paired in order per message size: variant/base for all instructions a message, the program, and each part. clos24.
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    side = 'a' if r['build'].rstrip('/').endswith('clos24-base') else 'b'
    by.setdefault(r['size'], {'a': [], 'b': []})[side].append(r)
for size, d in sorted(by.items()):
    for a, b in zip(d['a'], d['b']):
        parts = ' '.join(f"{k} {b['parts_per_msg'][k] / a['parts_per_msg'][k]:.3f}" for k in a['parts_per_msg'] if a['parts_per_msg'][k])
        print(f"{size} B x{a['n']} {a['ts']}: instr/msg {a['instr_per_msg']/1e6:.3f}M -> {b['instr_per_msg']/1e6:.3f}M ({b['instr_per_msg']/a['instr_per_msg']:.3f}); "
              f"program {a['program_per_msg']/1e6:.3f}M -> {b['program_per_msg']/1e6:.3f}M ({b['program_per_msg']/a['program_per_msg']:.3f}); {parts}; load {a['loadavg']}")
