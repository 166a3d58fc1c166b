#!/usr/bin/env python3
# trace-summary.py LOGDIR [SINKWATCH]: main.jsonl + worker.jsonl (throwaway POSTLANE_TRACE build) -> a timeline per 0.5 s and totals
import json, sys
d = sys.argv[1]
M = [json.loads(l) for l in open(f'{d}/main.jsonl')]
W = [json.loads(l) for l in open(f'{d}/worker.jsonl')]
sink = {}
if len(sys.argv) > 2:
    for l in open(sys.argv[2]):
        T, sess, mesg, r = map(int, l.split()); sink[T] = (sess, mesg)
def at(series, T):
    best = None
    for x in series:
        if x['T'] <= T: best = x
        else: break
    return best or {}
# the measured window: from the first put after the warm-up lull to the last outcome
puts = [(x['T'], x.get('call_put', 0)) for x in M]
# find warm-up end: the first 1 s gap without puts after some puts
start = None
for i in range(1, len(puts)):
    if puts[i][1] > 0 and puts[i][1] > puts[i-1][1] and start is None and puts[i-1][1] >= 150:
        # look back for a lull of >=5 samples
        if all(puts[j][1] == puts[i-1][1] for j in range(max(0, i-6), i)): start = puts[i-1][0]
if start is None: start = M[0]['T']
end = max(x['T'] for x in M if x.get('outcomes', 0) == M[-1].get('outcomes', 0) and True) if M else 0
last_out = M[-1].get('outcomes', 0)
end = next(x['T'] for x in M if x.get('outcomes', 0) == last_out)
m0, w0 = at(M, start), at(W, start)
print(f"window {start} .. {end}: {(end-start)/1000:.2f} s")
step = 500
sk = sorted(sink)
def sinkat(T):
    b = (0, 0)
    for t in sk:
        if t <= T: b = sink[t]
        else: break
    return b
print(" t(s)  put/s  out_rcpt/s  jobs/s  queue_rcpts  run wait  mainELU wrkELU  commits/s reqs/commit fsyncs/s  sess mesg/s")
prev_m, prev_w, prev_s = m0, w0, sinkat(start)
T = start + step
while T <= end + step:
    m, w, s = at(M, T), at(W, T), sinkat(T)
    dt = step / 1000
    g = lambda k, a=m, b=prev_m: (a.get(k, 0) - b.get(k, 0))
    h = lambda k: (w.get(k, 0) - prev_w.get(k, 0))
    # ELU averaged over the samples in this window
    elus = [x['elu'] for x in M if T - step < x['T'] <= T]; welus = [x['elu'] for x in W if T - step < x['T'] <= T]
    st = m.get('s', {})
    com = h('commits')
    print(f"{(T-start)/1000:5.1f} {g('call_put')/dt:6.0f} {g('outcomes')/dt:9.0f} {g('call_recordResults')/dt:7.0f} {m.get('rcpts_put',0)-m.get('outcomes',0):9d}  {st.get('run','-'):>4} {st.get('wait','-'):>4}  {sum(elus)/max(1,len(elus)):6.2f} {sum(welus)/max(1,len(welus)):6.2f}  {com/dt:8.0f} {h('batch_reqs')/max(1,com):8.1f} {h('fsyncs')/dt:8.0f}  {s[0]-prev_s[0]:4d} {(s[1]-prev_s[1])/dt:6.0f}")
    prev_m, prev_w, prev_s = m, w, s
    T += step
m1, w1 = at(M, end), at(W, end)
n = m1.get('call_put', 0) - m0.get('call_put', 0)
print(f"\nmessages put {n}; per message:")
for k in sorted(set(m1) | set(m0)):
    if isinstance(m1.get(k), (int, float)) and k not in ('t', 'T', 'elu'):
        print(f"  main {k}: {(m1.get(k,0)-m0.get(k,0))/max(1,n):.3f}")
for k in sorted(set(w1)):
    if isinstance(w1.get(k), (int, float)) and k not in ('t', 'T', 'elu'):
        print(f"  worker {k}: {(w1.get(k,0)-w0.get(k,0))/max(1,n):.4f}")
