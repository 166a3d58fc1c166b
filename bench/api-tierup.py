#!/usr/bin/env python3
"""bench/api-tierup.sh's OUT: per chunk (between the relay's 'cpu' lines) the TurboFan compilations completed, the
deoptimisations, and the relay's and its main thread's CPU a message.  python3 bench/api-tierup.py OUT 100,1000,1000,..."""
import json, sys
comp, deo, cpus = [0], [0], []
for line in open(sys.argv[1], errors='replace'):
    if line.startswith('{"cpuMs"'):
        cpus.append(json.loads(line)); comp.append(0); deo.append(0)
    elif 'completed optimizing' in line: comp[-1] += 1
    elif '<deoptimizing' in line or 'bailout (kind: deopt' in line: deo[-1] += 1
msgs = [int(x) for x in sys.argv[2].split(',')]
done = 0
print('| messages | TurboFan compilations | deopts | relay CPU ms/msg | main thread ms/msg |')
print('|---|---|---|---|---|')
for i, c in enumerate(cpus):
    prev = cpus[i - 1] if i else {'cpuMs': 0, 'mainCpuMs': 0}
    print(f"| {done}–{done + msgs[i]} | {comp[i]} | {deo[i]} | {(c['cpuMs'] - prev['cpuMs']) / msgs[i]:.2f} | {(c['mainCpuMs'] - prev['mainCpuMs']) / msgs[i]:.2f} |")
    done += msgs[i]
