// Structured logging: one JSON object per line on stdout (pino). Secrets are redacted by path
// so no password or key reaches a log even when a config or an auth object is logged whole.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({
    level,
    base: { svc: 'postlane' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['password', 'pass', '*.password', '*.pass', '*.*.pass', 'auth.pass', 'key', 'tls.key', 'secret', '*.secret'],
      censor: '[redacted]',
    },
  }, destination as never);
}
