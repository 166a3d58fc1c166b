// Independent webhook signature verifiers for tests: the snippets of docs/webhooks.md, run as
// written. pythonVerifies runs the Python one with python3 (its own HMAC implementation);
// loadNodeVerifier imports the Node one as a module.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

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
    const out = await new Promise<string>((resolve, reject) =>
      execFile('python3', args, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout))));
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
