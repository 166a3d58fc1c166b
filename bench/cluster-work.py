#!/usr/bin/env python3
"""cluster-work.py: work or contention? N Postlane nodes on one PostgreSQL database behind HAProxy (the
cluster bench's layout: bench/relays/postlane-cluster.sh's configs, the launcher's V8 flags), driven
through several phases in ONE life of the nodes, each phase measured on its own:
  idle:S        S seconds without mail (each node's fixed cost a second: timers, polls)
  rate:R:M      M messages at a fixed offered rate R msg/s (bench/smtp-rate.py, open loop)
  sat:M         M messages from smtp-source -s 20 (saturated, as bench/cluster.sh)
Per phase, from /proc (before and after; the window ends when the sink has every message + SETTLE s):
the nodes' CPU (utime+stime of each node process, all threads), HAProxy's, the run's PostgreSQL backends';
per node the voluntary and involuntary context switches and /proc/PID/task/*/schedstat (on-CPU ns,
run-queue wait ns, time slices) summed over its threads; pg_stat_statements of the run's database
(reset per phase: top-level statements, BEGIN, claims) when the server loads it.
--valgrind runs every node under callgrind (instrumentation off until the first measured phase;
per phase: zeroed before, dumped after), giving each node's exact instructions in every phase.
  bench/cluster-work.py --nodes 3 --phases idle:10,rate:100:1500,sat:3000 --out FILE.jsonl [--valgrind]
Env: BENCH_POSTLANE_ROOT (built tree), CLUSTER_PG_URL (admin URL), CLUSTER_DB_PREFIX, HOST (127.0.72.1),
PORT (47225: HAProxy; node i on PORT+i), SINK (127.0.72.9:47299), V8 (node flags; default the launcher's)."""
import argparse, json, os, re, signal, socket, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--nodes", type=int, default=1)
ap.add_argument("--phases", default="idle:10,rate:100:1500,sat:3000")
ap.add_argument("--warm", type=int, default=200)
ap.add_argument("--out", required=True)
ap.add_argument("--tag", default="")
ap.add_argument("--valgrind", action="store_true")
ap.add_argument("--settle", type=float, default=1.0)
ap.add_argument("--timers", default="on", help="off: delivery and webhook pollInterval 1h (the per-second polls out of a slow callgrind run)")
a = ap.parse_args()

ROOT = os.environ.get("BENCH_POSTLANE_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
ADMIN = os.environ.get("CLUSTER_PG_URL", "postgres://postgres@127.0.72.2:47250/postgres")
PREFIX = os.environ.get("CLUSTER_DB_PREFIX", "nodes26")
HOST = os.environ.get("HOST", "127.0.72.1"); PORT = int(os.environ.get("PORT", "47225"))
SINK_HOST, SINK_PORT = os.environ.get("SINK", "127.0.72.9:47299").split(":"); SINK_PORT = int(SINK_PORT)
SC = os.path.join(os.environ.get("SHARED_BENCH", os.path.join(ROOT, "..", "shared", "bench")), "lib", "sinkcount.py")
if not os.path.exists(SC): SC = "/work/shared/bench/lib/sinkcount.py"
launcher = open(os.path.join(ROOT, "bin", "postlane.js")).readline().strip()
V8 = os.environ.get("V8") or re.sub(r"^#!/usr/bin/env -S node\s*", "", launcher)
CLK = os.sysconf("SC_CLK_TCK")
WORK = subprocess.run(["mktemp", "-d", "/tmp/nodes26-cw.XXXX"], capture_output=True, text=True).stdout.strip()
os.chmod(WORK, 0o755)
DB = f"{PREFIX}_cw_{os.getpid()}"
procs = []


def log(*x): print(time.strftime("[%H:%M:%S]"), *x, file=sys.stderr, flush=True)


def psql(sql, url=None):
    return subprocess.run(["psql", "-qAt", "-F", "\t", url or ADMIN, "-c", sql], capture_output=True, text=True).stdout.splitlines()


def port_open(h, p, greet=False, tmo=2.0):
    try:
        s = socket.create_connection((h, p), timeout=tmo)
        if greet:
            ok = s.recv(512).startswith(b"220")
            s.sendall(b"QUIT\r\n")
        else: ok = True
        s.close(); return ok
    except OSError: return False


def task_counts(pid):
    """per process: CPU ticks (utime+stime), ctx switches and schedstat summed over its threads"""
    d = {"ticks": 0, "uticks": 0, "sticks": 0, "vcs": 0, "ivcs": 0, "run_ns": 0, "wait_ns": 0, "slices": 0, "migr": 0, "threads": 0}
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        d["ticks"] = int(f[11]) + int(f[12]); d["uticks"] = int(f[11]); d["sticks"] = int(f[12])
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                for l in open(f"/proc/{pid}/task/{t}/status"):
                    if l.startswith("voluntary_ctxt"): d["vcs"] += int(l.split()[1])
                    elif l.startswith("nonvoluntary_ctxt"): d["ivcs"] += int(l.split()[1])
                comm = open(f"/proc/{pid}/task/{t}/comm").read().strip()
                comm = "main" if t == str(pid) else re.sub(r"\d+$", "", comm)
                d.setdefault("by_comm", {})
                d["by_comm"][comm] = d["by_comm"].get(comm, 0) + int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0])
                r, w, s = open(f"/proc/{pid}/task/{t}/schedstat").read().split()
                d["run_ns"] += int(r); d["wait_ns"] += int(w); d["slices"] += int(s); d["threads"] += 1
                for l in open(f"/proc/{pid}/task/{t}/sched"):
                    if l.startswith("se.nr_migrations"): d["migr"] += int(l.split()[-1])
            except OSError: pass
    except OSError: pass
    return d


def pg_backends():
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit(): continue
        try:
            cmd = open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError: continue
        if cmd.startswith("postgres: ") and f" {DB} " in cmd: pids.append(int(p))
    return pids


def snapshot(nodes, haproxy):
    return {"t": time.time(), "nodes": [task_counts(p) for p in nodes], "haproxy": task_counts(haproxy),
            "pg": {p: task_counts(p) for p in pg_backends()}, "sink": sink_count()}


def sink_count():
    return int(subprocess.run(["python3", SC, "now", f"{WORK}/sink.out"], capture_output=True, text=True).stdout.split()[0])


def diff(a, b, keys=("ticks", "uticks", "sticks", "vcs", "ivcs", "run_ns", "wait_ns", "slices", "migr")):
    return {k: b[k] - a[k] for k in keys}


def cg_ir(path):
    for l in open(path):
        if l.startswith("summary:") or l.startswith("totals:"): return int(l.split()[1])
    return 0


def main():
    psql(f"CREATE DATABASE {DB}")
    pgss = bool(psql("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"))
    dburl = ADMIN.rsplit("/", 1)[0] + "/" + DB
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", "-c", f"{SINK_HOST}:{SINK_PORT}", "1024"],
                            stdout=open(f"{WORK}/sink.out", "w"), stderr=open(f"{WORK}/sink.err", "w"))
    procs.append(sink)
    servers = ""
    nodes = []
    for i in range(1, a.nodes + 1):
        port = PORT + i
        servers += f"    server node{i} {HOST}:{port}\n"
        cfg = f"""hostname: relay.bench.test
dataDir: {WORK}/data{i}
storage: {{ url: "{dburl}", poolSize: 10 }}
http: false
metrics: false
smtp:
  submission: false
  submissions: false
  mx: false
  alt: {{ host: {HOST}, port: {port} }}
  relayNetworks: [127.0.0.0/8]
  maxConnectionsPerIp: 1000
delivery:
  smarthost: "{SINK_HOST}:{SINK_PORT}"
  tls: none
  concurrency: 40
  maxConnectionsPerDestination: 40
log: {{ level: warn }}
"""
        if a.timers == "off": cfg = cfg.replace("delivery:\n", "delivery:\n  pollInterval: 1h\n") + "webhooks: { pollInterval: 1h }\n"
        open(f"{WORK}/node{i}.yaml", "w").write(cfg)
        cmd = ["node", *V8.split(), f"{ROOT}/bin/postlane.js", "start", "--config", f"{WORK}/node{i}.yaml"]
        if a.valgrind:
            cmd = ["valgrind", "--tool=callgrind", "--smc-check=all-non-file", "--trace-children=no", "--instr-atstart=no",
                   f"--callgrind-out-file={WORK}/cg{i}.out", *cmd]
        p = subprocess.Popen(cmd, stdout=open(f"{WORK}/node{i}.log", "w"), stderr=subprocess.STDOUT, cwd=WORK,
                             start_new_session=True)
        procs.append(p); nodes.append(p.pid)
    for i in range(1, a.nodes + 1):
        t0 = time.time()
        while not port_open(HOST, PORT + i, greet=True, tmo=30):
            if procs[i].poll() is not None: raise SystemExit(f"node {i} exited: " + open(f"{WORK}/node{i}.log").read()[-2000:])
            if time.time() - t0 > 900: raise SystemExit(f"node {i} never greeted")
            time.sleep(1)
    log(f"{a.nodes} node(s) up ({'callgrind' if a.valgrind else 'native'}; V8 {V8})")
    open(f"{WORK}/haproxy.cfg", "w").write(f"""global
    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend smtp
    bind {HOST}:{PORT}
    default_backend nodes
backend nodes
    balance roundrobin
{servers}""")
    hp = subprocess.Popen(["haproxy", "-db", "-f", f"{WORK}/haproxy.cfg"], stdout=open(f"{WORK}/haproxy.log", "w"),
                          stderr=subprocess.STDOUT, start_new_session=True)
    procs.append(hp)
    while not port_open(HOST, PORT): time.sleep(0.1)

    def push(kind, rate, m):
        target = sink_count() + m
        if kind == "sat":
            g = subprocess.run(["smtp-source", "-s", "20", "-m", str(m), "-l", "4096", "-f", "sender@src.test", "-t", "rcpt@dst.test",
                                "-M", "gen.src.test", f"{HOST}:{PORT}"], capture_output=True, text=True)
            gen = {"rc": g.returncode}
        else:
            g = subprocess.run(["python3", f"{HERE}/smtp-rate.py", HOST, str(PORT), str(rate), str(m)], capture_output=True, text=True)
            gen = json.loads(g.stdout.strip().splitlines()[-1]) if g.stdout.strip() else {"rc": g.returncode, "err": g.stderr[-300:]}
        w = subprocess.run(["python3", SC, "wait", f"{WORK}/sink.out", "-", str(target), "0", "1800"], capture_output=True, text=True)
        done = float(w.stdout.split()[1]) if w.stdout.startswith("done") else None
        return gen, done

    if a.warm:
        log(f"warm-up {a.warm}")
        push("sat", 0, a.warm)
        time.sleep(2)
    ndumps = 0
    vg_on = False
    for ph in a.phases.split(","):
        parts = ph.split(":")
        kind = parts[0]
        if a.valgrind:
            for pid in nodes:
                if not vg_on: subprocess.run(["callgrind_control", "-i", "on", str(pid)], capture_output=True)
                subprocess.run(["callgrind_control", "-z", str(pid)], capture_output=True)
            vg_on = True
        if pgss: psql(f"SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = '{DB}'), 0)")
        la = open("/proc/loadavg").read().split()[0]
        s0 = snapshot(nodes, hp.pid)
        gen, done = None, None
        if kind == "idle":
            time.sleep(float(parts[1])); m = 0; rate = 0
        elif kind == "rate":
            rate, m = float(parts[1]), int(parts[2]); gen, done = push("rate", rate, m)
        else:
            rate, m = 0, int(parts[1]); gen, done = push("sat", 0, m)
        t_send_end = time.time()
        if kind != "idle": time.sleep(a.settle)
        s1 = snapshot(nodes, hp.pid)
        ir = None
        if a.valgrind:
            ndumps += 1
            for pid in nodes: subprocess.run(["callgrind_control", "-d", str(pid)], capture_output=True)
            time.sleep(2)
            ir = []
            for i in range(1, a.nodes + 1):
                f = f"{WORK}/cg{i}.out.{ndumps}"
                for _ in range(100):
                    if os.path.exists(f) and os.path.getsize(f) > 0: break
                    time.sleep(0.2)
                ir.append(cg_ir(f) if os.path.exists(f) else None)
                if os.path.exists(f): subprocess.run(["cp", f, f"{os.path.splitext(a.out)[0]}-cg-{a.tag or 'x'}-n{a.nodes}-{ph.replace(':', '_')}-node{i}.out"])
        el = s1["t"] - s0["t"]
        nd = [diff(x, y) for x, y in zip(s0["nodes"], s1["nodes"])]
        comm = {}
        for x, y in zip(s0["nodes"], s1["nodes"]):
            for k, v in y.get("by_comm", {}).items(): comm[k] = comm.get(k, 0) + v - x.get("by_comm", {}).get(k, 0)
        hpd = diff(s0["haproxy"], s1["haproxy"])
        pgt = sum(v["ticks"] for v in s1["pg"].values()) - sum(s0["pg"].get(p, {"ticks": 0})["ticks"] for p in s1["pg"])
        pgv = sum(v["vcs"] for v in s1["pg"].values()) - sum(s0["pg"].get(p, {"vcs": 0})["vcs"] for p in s1["pg"])
        stm = {}
        if pgss:
            rows = psql(f"SELECT calls, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements WHERE toplevel AND dbid = (SELECT oid FROM pg_database WHERE datname = '{DB}')")
            tot = begin = claim = lease = nextdue = 0
            for r in rows:
                c, q = r.split("\t", 1); c = int(c); tot += c
                if q.upper().startswith("BEGIN"): begin += c
                if "r.lease_until AS due_at" in q: claim += c  # the expired-lease walk: once a claim
                if q.startswith("WITH picked AS"): lease += c                       # the lease: claims that found work
                if q.startswith("SELECT next_attempt_at AS t"): nextdue += c
            stm = {"statements": tot, "begin": begin, "claims": claim, "leases": lease, "nextdue": nextdue}
            with open(f"{os.path.splitext(a.out)[0]}-stmts.tsv", "a") as sf:  # tag, nodes, phase, calls, statement
                sf.write("".join(f"{a.tag}\tn{a.nodes}\t{ph}\t{r}\n" for r in sorted(rows, key=lambda r: -int(r.split('\t')[0]))))
        delivered = s1["sink"] - s0["sink"]
        rec = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S"), "tag": a.tag, "timers": a.timers, "v8": V8, "nodes": a.nodes, "valgrind": a.valgrind, "phase": ph, "kind": kind,
               "offered_rate": rate, "msgs": m, "delivered": delivered, "seconds": round(el, 2),
               "e2e_rate": round(m / (done - s0["t"]), 1) if done and m else None, "gen": gen, "loadavg": la,
               "nodes_cpu_s": round(sum(x["ticks"] for x in nd) / CLK, 3), "haproxy_cpu_s": round(hpd["ticks"] / CLK, 3),
               "pg_cpu_s": round(pgt / CLK, 3), "pg_vcs": pgv, "per_node": nd, "haproxy": hpd, **stm, "ir": ir}
        if m:
            rec["nodes_cpu_ms_per_msg"] = round(rec["nodes_cpu_s"] * 1000 / m, 4)
            rec["nodes_haproxy_cpu_ms_per_msg"] = round((rec["nodes_cpu_s"] + rec["haproxy_cpu_s"]) * 1000 / m, 4)
            rec["nodes_user_ms_per_msg"] = round(sum(x["uticks"] for x in nd) * 1000 / CLK / m, 4)
            rec["nodes_sys_ms_per_msg"] = round(sum(x["sticks"] for x in nd) * 1000 / CLK / m, 4)
            rec["sched_run_ms_per_msg"] = round(sum(x["run_ns"] for x in nd) / 1e6 / m, 4)
            rec["runq_wait_ms_per_msg"] = round(sum(x["wait_ns"] for x in nd) / 1e6 / m, 4)
            rec["vcs_per_msg"] = round(sum(x["vcs"] for x in nd) / m, 3)
            rec["ivcs_per_msg"] = round(sum(x["ivcs"] for x in nd) / m, 3)
            rec["on_cpu_ms_per_msg_by_thread"] = {k: round(v / 1e6 / m, 4) for k, v in sorted(comm.items(), key=lambda kv: -kv[1])}
            rec["migr_per_msg"] = round(sum(x["migr"] for x in nd) / m, 3)
            rec["slices_per_msg"] = round(sum(x["slices"] for x in nd) / m, 3)
            rec["pg_cpu_ms_per_msg"] = round(rec["pg_cpu_s"] * 1000 / m, 4)
            if stm: rec.update({k + "_per_msg": round(stm[k] / m, 3) for k in stm})
            if ir: rec["ir_per_msg"] = round(sum(x or 0 for x in ir) / m)
        else:
            rec["nodes_cpu_ms_per_s"] = round(rec["nodes_cpu_s"] * 1000 / el, 3)
            rec["sched_run_ms_per_s"] = round(sum(x["run_ns"] for x in nd) / 1e6 / el, 3)
            rec["vcs_per_s"] = round(sum(x["vcs"] for x in nd) / el, 2)
            if ir: rec["ir_per_s"] = round(sum(x or 0 for x in ir) / el)
        with open(a.out, "a") as f: f.write(json.dumps(rec) + "\n")
        log(ph, {k: rec.get(k) for k in ("e2e_rate", "nodes_cpu_ms_per_msg", "nodes_haproxy_cpu_ms_per_msg", "nodes_cpu_ms_per_s",
                                          "runq_wait_ms_per_msg", "vcs_per_msg", "ivcs_per_msg", "statements_per_msg", "claims_per_msg", "leases_per_msg", "ir_per_msg", "ir_per_s", "loadavg")})


def cleanup():
    for p in reversed(procs):
        try: os.killpg(p.pid, signal.SIGTERM) if p.pid != procs[0].pid else p.terminate()
        except (OSError, ProcessLookupError): pass
    t0 = time.time()
    for p in procs:
        try: p.wait(timeout=max(1, 60 - (time.time() - t0)))
        except subprocess.TimeoutExpired:
            try: os.killpg(p.pid, signal.SIGKILL)
            except OSError: pass
    psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    if os.environ.get("KEEP_RUN") != "1": subprocess.run(["rm", "-rf", WORK])
    else: log("kept", WORK)


try:
    main()
finally:
    cleanup()
