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
      // secret31: also tokens, Authorization and Cookie headers (a request or its headers logged
      // whole). Only values are hidden, not flags: `token: true` (metrics.listening says a token is set) stays.
      paths: ['password', 'pass', '*.password', '*.pass', '*.*.pass', 'auth.pass', 'key', 'tls.key', 'secret', '*.secret',
        'token', '*.token', 'authorization', '*.authorization', '*.*.authorization', 'cookie', '*.cookie', '*.*.cookie'],
      censor: (value: unknown) => (typeof value === 'boolean' || value === null || value === undefined ? value : '[redacted]'),
    },
  }, destination as never);
}
