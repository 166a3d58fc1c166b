# Per run database of a campaign on a private server with pg_stat_statements (track = all, track_planning = on; reset before),
# in oid order (the runs' order): top-level calls a message (round trips), all calls (nested ones too: FK checks, triggers), top-level
# execution and planning ms a message, plans a message, and the put's statements.  python3 bench/pg-statements-per-db.py URL MESSAGES [label,label,...]
import subprocess, sys
url, msgs = sys.argv[1], int(sys.argv[2])
labels = sys.argv[3].split(',') if len(sys.argv) > 3 else []
q = lambda sql: subprocess.run(['psql', '-qAt', '-F', '\t', url, '-c', sql], capture_output=True, text=True, check=True).stdout.splitlines()
dbids = [int(x) for x in q("SELECT dbid FROM pg_stat_statements WHERE dbid NOT IN (SELECT oid FROM pg_database) GROUP BY dbid ORDER BY 1")]
for i, d in enumerate(dbids):
    r = q(f"""SELECT round(sum(calls) FILTER (WHERE toplevel)::numeric/{msgs},2), round(sum(calls)::numeric/{msgs},2),
      round((sum(total_exec_time) FILTER (WHERE toplevel)/{msgs})::numeric,3), round((sum(total_plan_time)/{msgs})::numeric,3), round(sum(plans)::numeric/{msgs},2),
      round(sum(calls) FILTER (WHERE toplevel AND (query ~* '^\\s*(WITH (sup|m) AS|INSERT INTO (queued_message|recipient|message_body)|WITH inserted|WITH rcpt)'))::numeric/{msgs},2),
      round((sum(total_exec_time+total_plan_time) FILTER (WHERE toplevel AND (query ~* '^\\s*(WITH (sup|m) AS|INSERT INTO (queued_message|recipient|message_body)|WITH inserted|WITH rcpt)')))::numeric/{msgs},3),
      round(sum(calls) FILTER (WHERE toplevel AND query IN ('BEGIN','COMMIT'))::numeric/{msgs},2)
      FROM pg_stat_statements WHERE dbid = {d}""")[0].split('\t')
    lab = labels[i] if i < len(labels) else str(d)
    print(f"{lab}\ttoplevel/msg {r[0]}\tall/msg {r[1]}\texec ms/msg {r[2]}\tplan ms/msg {r[3]}\tplans/msg {r[4]}\tput stmts/msg {r[5]}\tput plan+exec ms/msg {r[6]}\tBEGIN+COMMIT/msg {r[7]}")
