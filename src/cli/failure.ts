// Owns how a `postlane` command ends when something goes wrong: one clear line on stderr (every
// problem of an invalid config, one per line) and a non-zero exit code, never a stack trace unless
// --debug or POSTLANE_DEBUG=1; and a quiet exit when the reader of stdout goes away (EPIPE, as in
// `postlane domains records x | head -1`). Exit codes: 1 failure, 2 usage or configuration,
// 3 not found (4, `domains check` found a problem, is set by that command).
import { ConfigError, RelayError } from '../errors.js';

/** --debug anywhere on the command line, or POSTLANE_DEBUG=1. */
export const isDebug = (argv: readonly string[], env: NodeJS.ProcessEnv): boolean =>
  argv.includes('--debug') || /^(1|true|yes|on)$/i.test(env.POSTLANE_DEBUG ?? '');

/** An operating-system error; `configKey` is added by `start` when it knows the listener (smtp.mx). */
export interface SystemError { code?: string; syscall?: string; address?: string; port?: number; path?: string; message?: string; configKey?: string }

/** What an operating-system error means, in words, and what to do about it. */
function describeSystemError(e: SystemError): string | null {
  const at = e.address !== undefined ? `${e.address}${e.port !== undefined ? `:${e.port}` : ''}` : e.path ?? '';
  const where = `${at}${e.configKey ? ` (${e.configKey})` : ''}`;
  if (e.syscall === 'listen' || e.syscall === 'bind') {
    if (e.code === 'EADDRINUSE') return `cannot listen on ${where}: the address is already in use (another Postlane or mail server?); stop it or change ${e.configKey ?? 'the port'} in the config`;
    if (e.code === 'EACCES') return `cannot listen on ${where}: permission denied; ports below 1024 need CAP_NET_BIND_SERVICE (README, "Production: the standard ports")`;
    if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: no such address on this machine; change ${e.configKey ?? 'the listener\'s host'} in the config`;
  }
  if (e.code === 'EACCES' || e.code === 'EPERM') return `${e.syscall ?? 'access'} ${where}: permission denied`;
  if (e.code === 'ENOSPC') return `${e.syscall ?? 'write'} ${where}: no space left on the device`;
  if (e.code === 'EROFS') return `${e.syscall ?? 'write'} ${where}: read-only file system`;
  return null;
}

/** The line(s) shown for `err`, the exit code, and whether it is an error we know how to explain. */
export function describeFailure(err: unknown): { text: string; exitCode: number; explained: boolean } {
  if (err instanceof ConfigError) return { text: err.message, exitCode: 2, explained: true };
  if (err instanceof RelayError) return { text: err.message, exitCode: err.code === 'ERR_NOT_FOUND' ? 3 : 2, explained: true };
  const e = (err ?? {}) as SystemError;
  const known = typeof e.code === 'string' ? describeSystemError(e) : null;
  return { text: known ?? (e.message || String(err)), exitCode: 1, explained: known !== null };
}

/** Print `err` as `postlane: …` (with the stack trace when debugging) and exit. */
export function exitWithFailure(err: unknown, debug: boolean): never {
  const { text, exitCode, explained } = describeFailure(err);
  const hint = debug || explained ? '' : ' (--debug shows the stack trace)';
  process.stderr.write(`postlane: ${text}${hint}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(exitCode);
}

/** A closed stdout (`| head`) ends the command quietly with 0: the reader has what it wanted. */
export function exitQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(0);
    exitWithFailure(err, isDebug(process.argv, process.env));
  });
  process.stderr.on('error', () => { /* nowhere left to report to */ });
}
