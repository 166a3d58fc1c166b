// Drives SMTP dialogues with Python's smtplib (an independent client) and returns every reply, so
// a test can assert what the simulator answers at each step. Several labelled connections may be
// open at once (to test per-IP connection limits).
//
//   const r = await dialogue(PYTHON3, host, port, [
//     ['a', 'connect'], ['a', 'ehlo'], ['a', 'starttls'], ['a', 'mail', 'x@y.test'], ['a', 'rcpt', 'b@c.test'],
//     ['a', 'data', 'Subject: hi\r\n\r\nbody\r\n'], ['a', 'timeout', 0.5], ['a', 'quit'],
//   ]);
//   r[i] → { code, text } | { error: 'disconnected' | 'disconnected: … timed out' | … }   (one per step)
import { execFile } from 'node:child_process';

export type Step = [conn: string, op: 'connect' | 'ehlo' | 'starttls' | 'mail' | 'rcpt' | 'data' | 'quit' | 'timeout', arg?: string | number];
export type StepResult = { code: number; text: string } | { error: string };

const SCRIPT = String.raw`
import json, smtplib, ssl, socket, sys
host, port, steps = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
conns, out = {}, []
def reply(t): return {"code": t[0], "text": t[1].decode("utf-8", "replace")}
for label, op, *rest in steps:
    arg = rest[0] if rest else None
    try:
        if op == "connect":
            s = smtplib.SMTP(local_hostname="client.test", timeout=30); s._host = host
            conns[label] = s
            out.append(reply(s.connect(host, port)))
            continue
        s = conns[label]
        if op == "ehlo": out.append(reply(s.ehlo()))
        elif op == "starttls":
            ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
            out.append(reply(s.starttls(context=ctx))); s.ehlo()
        elif op == "mail": out.append(reply(s.mail(arg)))
        elif op == "rcpt": out.append(reply(s.rcpt(arg)))
        elif op == "data": out.append(reply(s.data(arg.encode())))
        elif op == "timeout": s.sock.settimeout(arg); out.append({"code": 0, "text": ""})
        elif op == "quit": out.append(reply(s.quit()))
    except smtplib.SMTPConnectError as e: out.append({"code": e.smtp_code, "text": e.smtp_error.decode("utf-8", "replace")})
    except smtplib.SMTPResponseException as e: out.append({"code": e.smtp_code, "text": e.smtp_error.decode("utf-8", "replace")})
    except socket.timeout: out.append({"error": "timeout"})
    except smtplib.SMTPServerDisconnected as e: out.append({"error": "disconnected" + (": " + str(e) if "timed out" in str(e) else "")})
    except Exception as e: out.append({"error": type(e).__name__ + ": " + str(e)})
print(json.dumps(out))
`;

export function dialogue(python: string, host: string, port: number, steps: Step[]): Promise<StepResult[]> {
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', SCRIPT, host, String(port), JSON.stringify(steps)], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`python smtplib failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout) as StepResult[]);
    });
  });
}

/** The reply code of a step (throws on an error result, naming it). */
export function codeOf(r: StepResult | undefined): number {
  if (!r || 'error' in r) throw new Error(`expected a reply, got ${JSON.stringify(r)}`);
  return r.code;
}
