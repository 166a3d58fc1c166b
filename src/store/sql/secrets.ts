// The installation secrets' statements, shared by both stores (see dialect.ts).
import { shared } from './dialect.js';

export const SELECT_SECRETS = shared('SELECT secret FROM installation_secret WHERE purpose = $1 ORDER BY created_at DESC');
export const INSERT_SECRET = shared(`INSERT INTO installation_secret (purpose, created_at, secret) VALUES ($1, $2, $3)
  ON CONFLICT (purpose, created_at) DO NOTHING`);
/** Every secret older than the newest one already past its grace period (whose successor is older than $2). */
export const RETIRE_SECRETS = shared(`DELETE FROM installation_secret WHERE purpose = $1
  AND created_at < (SELECT max(created_at) FROM installation_secret WHERE purpose = $1 AND created_at < $2)`);
