import json, sys, re, glob
def load(path, dur):
    p = json.load(open(path))
    nodes = {n['id']: n for n in p['nodes']}
    t = p['startTime']; times = []
    for d in p['timeDeltas']: t += d; times.append(t)
    end = times[-1]
    # the measured window: the dur seconds before the last request (stop comes ~0.3 s after)
    lo, hi = end - (dur + 0.3) * 1e6, end - 0.3e6
    agg = {}; total = 0
    for sid, ts in zip(p['samples'], times):
        if not (lo <= ts <= hi): continue
        n = nodes[sid]; cf = n['callFrame']; url = cf['url']
        if not url: k = cf['functionName'] or '(anon)'
        elif 'node_modules/' in url: k = 'npm:' + re.search(r'node_modules/((@[^/]+/)?[^/]+)', url).group(1)
        elif '/dist/src/' in url: k = 'postlane:' + url.split('/dist/src/')[1].split('/')[0]
        elif url.startswith('node:'): k = 'node:' + url[5:].split('/')[0]
        else: k = url[-40:]
        agg[k] = agg.get(k, 0) + 1; total += 1
    return agg, total
a, ta = load(glob.glob('/tmp/pgp99/prof-100/*.cpuprofile')[0], float(sys.argv[1]))
b, tb = load(glob.glob('/tmp/pgp99/prof-10000/*.cpuprofile')[0], float(sys.argv[2]))
# samples are ~1 ms wall each; per message: samples / 3000
print(f"samples in window: standard {ta}, warm {tb} (per message {ta/3000:.3f} / {tb/3000:.3f})")
keys = sorted(set(a) | set(b), key=lambda k: -(a.get(k, 0) / 3000 - b.get(k, 0) / 3000))
print(f"{'where':32s} {'std ms/msg':>10s} {'warm':>8s} {'diff':>8s}")
for k in keys[:22]:
    print(f"{k:32s} {a.get(k,0)/3000:10.3f} {b.get(k,0)/3000:8.3f} {(a.get(k,0)-b.get(k,0))/3000:8.3f}")
