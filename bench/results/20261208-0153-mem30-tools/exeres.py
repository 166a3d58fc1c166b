#!/usr/bin/env python3
# resident pages of the node executable per ELF section (and ICU data symbol range): exeres.py PID
import sys, re, struct, subprocess, os
pid = sys.argv[1]; exe = os.readlink(f'/proc/{pid}/exe')
secs = []
for l in subprocess.run(['readelf', '-SW', exe], capture_output=True, text=True).stdout.splitlines():
    m = re.match(r'\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)', l)
    if m and int(m[2], 16): secs.append((m[1], int(m[3], 16), int(m[4], 16)))
syms = {}
for l in subprocess.run(['readelf', '-sW', exe], capture_output=True, text=True).stdout.splitlines():
    f = l.split()
    if len(f) >= 8 and re.match(r'icudt\d+_dat$', f[7]): syms['ICU data'] = (int(f[1], 16), int(f[2], 0) if f[2].startswith('0x') else int(f[2]))
res = {}
pm = open(f'/proc/{pid}/pagemap', 'rb')
for l in open(f'/proc/{pid}/maps'):
    f = l.split()
    if len(f) < 6 or f[5] != exe: continue
    lo, hi = (int(x, 16) for x in f[0].split('-')); off = int(f[2], 16)
    pm.seek(lo // 4096 * 8); data = pm.read((hi - lo) // 4096 * 8)
    for i in range(0, len(data), 8):
        e = struct.unpack('<Q', data[i:i+8])[0]
        if not (e >> 63) & 1: continue
        fo = off + i // 8 * 4096; va = lo + i // 8 * 4096
        name = 'other'
        for s, a, o in secs:
            if False: pass
        for s, addr, o in secs:
            pass
        # by virtual address of section (non-PIE: vaddr == section addr)
        for s, a, o in secs:
            pass
        res.setdefault(f[1], []).append(va)
tot = {}
icu = syms.get('ICU data')
for perm, vas in res.items():
    for va in vas:
        n = 'other'
        for s, a, o in secs:
            # a = vaddr; size unknown here -> compute from next section
            pass
        tot_key = None
        tot.setdefault('all', 0); tot['all'] += 4
        if icu and icu[0] <= va < icu[0] + icu[1]: tot['ICU data'] = tot.get('ICU data', 0) + 4
# per section using sizes
sz = {}
for l in subprocess.run(['readelf', '-SW', exe], capture_output=True, text=True).stdout.splitlines():
    m = re.match(r'\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)', l)
    if m and int(m[2], 16): sz[m[1]] = (int(m[2], 16), int(m[4], 16))
allva = [va for v in res.values() for va in v]
for s, (a, size) in sz.items():
    n = sum(1 for va in allva if a <= va < a + size) * 4
    if n > 200: print(f'  {s:14s} {n/1024:6.1f} MB of {size/1048576:6.1f}')
print(f"  total {tot['all']/1024:.1f} MB; ICU data {tot.get('ICU data',0)/1024:.1f} MB of {(icu[1] if icu else 0)/1048576:.1f}")
