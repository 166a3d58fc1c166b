// Independent webhook signature verifiers for tests: the snippets of docs/webhooks.md, run as
// written. pythonVerifies runs the Python one with python3 (its own HMAC implementation);
// loadNodeVerifier imports the Node one as a module. PythonWebhookVerifier is one long-lived
// python3 process that checks every request an end-to-end receiver gets, twice: the documented
// Postlane-Signature recipe, and a Standard Webhooks verifier written here from the specification
// (standardwebhooks.com: webhook-id / webhook-timestamp / webhook-signature), not from our code.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TOOLS, toolPath } from './require-tool.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const DOC = path.join(ROOT, 'docs/webhooks.md');

/** The first fenced block of the given language in docs/webhooks.md. */
export async function docSnippet(lang: string): Promise<string> {
  const text = await fs.readFile(DOC, 'utf8');
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(text);
  assert.ok(m, `a ${lang} block in docs/webhooks.md`);
  return m[1]!;
}

/** The documented Python function's verdict; the body goes through a file as raw bytes. */
export async function pythonVerifies(secret: string, header: string, rawBody: Buffer, nowSec?: number): Promise<boolean> {
  const code = await docSnippet('python');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-whdoc-'));
  try {
    const bodyFile = path.join(dir, 'body');
    await fs.writeFile(bodyFile, rawBody);
    const driver = `${code}\nimport sys\nbody = open(sys.argv[3], "rb").read()\nnow = float(sys.argv[4]) if len(sys.argv) > 4 else None\n`
      + 'print("VALID" if verify_postlane_signature(sys.argv[1], sys.argv[2], body, now=now) else "INVALID")\n';
    const args = ['-c', driver, secret, header, bodyFile, ...(nowSec === undefined ? [] : [String(nowSec)])];
    const python3 = (await toolPath(TOOLS.python3)) ?? 'python3';
    const out = await new Promise<string>((resolve, reject) =>
      execFile(python3, args, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout))));
    return out.trim() === 'VALID';
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export type NodeVerifier = (secret: string, header: string | undefined, raw: Buffer, toleranceSec?: number, nowMs?: number) => boolean;

/** The documented Node function, imported from a file holding the snippet as written. */
export async function loadNodeVerifier(): Promise<NodeVerifier> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-whdoc-'));
  const file = path.join(dir, 'verify.mjs');
  await fs.writeFile(file, await docSnippet('js'));
  try {
    return ((await import(pathToFileURL(file).href)) as { verifyPostlaneSignature: NodeVerifier }).verifyPostlaneSignature;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The Standard Webhooks check, written from the specification (not from Postlane's signer). */
const PY_STANDARD = `
import base64, binascii, hashlib, hmac, time

def verify_standard_webhook(secret, headers, body, tolerance=300, now=None):
    """Standard Webhooks, symmetric (v1): HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>"
    with the base64-decoded secret (after whsec_), base64 signatures, space-separated v1,<sig> list."""
    msg_id, ts, sigs = headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature")
    if not msg_id or not ts or not sigs or not ts.isdigit():
        return False
    now = time.time() if now is None else now
    if abs(now - int(ts)) > tolerance:
        return False
    try:
        key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret, validate=True)
    except binascii.Error:
        return False
    expected = base64.b64encode(hmac.new(key, msg_id.encode() + b"." + ts.encode() + b"." + body, hashlib.sha256).digest())
    for entry in sigs.split(" "):
        version, _, sig = entry.partition(",")
        if version == "v1" and hmac.compare_digest(expected, sig.encode()):
            return True
    return False
`;

const PY_LOOP = `
import base64, json, sys
for line in sys.stdin:
    req = json.loads(line)
    body = base64.b64decode(req["body"])
    headers = {k.lower(): v for k, v in req["headers"].items()}
    print(json.dumps({
        "postlane": verify_postlane_signature(req["secret"], headers.get("postlane-signature"), body),
        "standard": verify_standard_webhook(req["secret"], headers, body),
    }), flush=True)
`;

export interface WebhookVerdict { postlane: boolean; standard: boolean }

/**
 * One python3 process judging requests as they arrive: the documented Postlane-Signature recipe
 * and the Standard Webhooks verifier above. verify() resolves in request order.
 */
export class PythonWebhookVerifier {
  readonly #pending: { resolve(v: WebhookVerdict): void; reject(e: Error): void }[] = [];
  readonly #stderr: string[] = [];
  private constructor(private readonly child: ChildProcess) {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => this.#pending.shift()?.resolve(JSON.parse(line) as WebhookVerdict));
    child.stderr!.on('data', (d: Buffer) => this.#stderr.push(d.toString()));
    child.on('exit', () => {
      for (const p of this.#pending.splice(0)) p.reject(new Error(`the python3 verifier exited: ${this.#stderr.join('')}`));
    });
  }

  static async start(): Promise<PythonWebhookVerifier> {
    const python3 = (await toolPath(TOOLS.python3)) ?? 'python3';
    const code = `${await docSnippet('python')}\n${PY_STANDARD}\n${PY_LOOP}`;
    return new PythonWebhookVerifier(spawn(python3, ['-c', code], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  verify(secret: string, headers: Record<string, string | string[] | undefined>, body: Buffer): Promise<WebhookVerdict> {
    if (this.child.exitCode !== null) return Promise.reject(new Error(`the python3 verifier exited: ${this.#stderr.join('')}`));
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
    return new Promise((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.child.stdin!.write(JSON.stringify({ secret, headers: flat, body: body.toString('base64') }) + '\n');
    });
  }

  close(): void { this.child.stdin!.end(); }
}
