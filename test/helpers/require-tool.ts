// The external peers the tests drive (swaks, HAProxy, curl, Postfix's smtp-sink/smtp-source,
// openssl, python3 and python3-dkim, PostgreSQL, gcc for the slow disk), found once per process, and the one rule for a
// missing one: under CI (CI=true) the test FAILS, naming the Debian package that .ci/run installs;
// elsewhere it is skipped with the same message. No test quietly shrinks to what happens to be
// installed.
//
//   const skip = await skipUnless(TOOLS.swaks, TOOLS.haproxy);  // module level: test(name, { skip }, …)
//   test('…', async (t) => { if (!(await requireTools(t, TOOLS.curl))) return; … });
//   const haproxy = await toolPath(TOOLS.haproxy);             // the command to run
//
// skipUnless throws under CI when a tool is missing, so the whole test file fails at load.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { findPgBinDir } from './pg-instance.js';
import { PG_ADMIN_URL, pgReachable } from './postgres.js';

export interface Tool {
  /** What the message calls it. */
  name: string;
  /** How to get it on Debian (what .ci/run installs). */
  install: string;
  /** The command to run when present, or null. */
  find(): Promise<string | null>;
}

const run = (cmd: string, args: string[]) =>
  new Promise<boolean>((resolve) => execFile(cmd, args, { timeout: 20_000 }, (err) => resolve(!err)));

/** A program on PATH or in the sbin directories Debian puts daemons in (not on every user's PATH). */
async function onPath(command: string): Promise<string | null> {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const file = path.join(dir, command);
    try { await fs.access(file, fs.constants.X_OK); return file; } catch { /* next */ }
  }
  return null;
}

/** A program that is present and answers `args` with exit status 0. */
const program = (name: string, install: string, args: string[], command = name): Tool => ({
  name, install,
  async find() {
    const file = await onPath(command);
    return file && (await run(file, args)) ? file : null;
  },
});

/** Debian's interpreter, where python3-dkim and python3-dnspython are installed. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export const TOOLS = {
  swaks: program('swaks', 'apt-get install swaks libio-socket-ssl-perl libauthen-sasl-perl', ['--version']),
  haproxy: program('haproxy', 'apt-get install haproxy', ['-v']),
  curl: program('curl', 'apt-get install curl', ['--version']),
  openssl: program('openssl', 'apt-get install openssl', ['version']),
  // smtp-sink and smtp-source have no version flag: present and executable is enough.
  smtpSink: { name: 'smtp-sink (Postfix)', install: 'apt-get install postfix', find: () => onPath('smtp-sink') },
  smtpSource: { name: 'smtp-source (Postfix)', install: 'apt-get install postfix', find: () => onPath('smtp-source') },
  python3: program('python3', 'apt-get install python3', ['-c', 'import smtplib, ssl, hmac, hashlib, base64']),
  pythonDkim: {
    name: `python3-dkim (${DEBIAN_PYTHON} importing dkim with ARC, authres and dns.resolver)`,
    install: 'apt-get install python3-dkim python3-dnspython python3-authres',
    find: async () => ((await run(DEBIAN_PYTHON, ['-c', 'import dkim, dns.resolver, authres; dkim.arc_sign; dkim.arc_verify'])) ? DEBIAN_PYTHON : null),
  },
  postgres: {
    name: `a PostgreSQL server at ${PG_ADMIN_URL} (PL_TEST_PG_URL)`,
    install: 'apt-get install postgresql postgresql-client, then start the cluster (.ci/run does both)',
    find: async () => ((await pgReachable()) ? PG_ADMIN_URL : null),
  },
  gcc: program('gcc', 'apt-get install gcc', ['--version']),
  pgServerBinaries: {
    name: 'PostgreSQL server binaries (initdb, pg_ctl)',
    install: 'apt-get install postgresql',
    find: () => findPgBinDir(),
  },
} satisfies Record<string, Tool>;

const found = new Map<Tool, Promise<string | null>>();

/** The command for `tool` (probed once per process), or null. */
export function toolPath(tool: Tool): Promise<string | null> {
  let p = found.get(tool);
  if (!p) found.set(tool, (p = tool.find()));
  return p;
}

export const isCI = () => process.env.CI === 'true';

/** "swaks (apt-get install swaks …)" for each missing tool, or null when all are there. */
export async function missingTools(tools: Tool[]): Promise<string | null> {
  const paths = await Promise.all(tools.map(toolPath));
  const missing = tools.filter((_, i) => paths[i] === null);
  return missing.length ? missing.map((t) => `${t.name} (${t.install})`).join('; ') : null;
}

/**
 * node:test's `skip` option for tests that need `tools`: false when all are there; a message
 * when one is missing outside CI; under CI a missing tool throws (the test file fails).
 */
export async function skipUnless(...tools: Tool[]): Promise<false | string> {
  const missing = await missingTools(tools);
  if (!missing) return false;
  if (isCI()) throw new Error(`required under CI=true, missing: ${missing}`);
  return `missing: ${missing}`;
}

/** Inside a test: true when every tool is there; else fails under CI, or skips the test and returns false. */
export async function requireTools(t: { skip(message?: string): void }, ...tools: Tool[]): Promise<boolean> {
  const missing = await missingTools(tools);
  if (!missing) return true;
  if (isCI()) throw new Error(`required under CI=true, missing: ${missing}`);
  t.skip(`missing: ${missing}`);
  return false;
}
