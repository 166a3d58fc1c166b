// The dashboard users' and sessions' statements (store/dashboard-store.ts), shared by both stores
// (see dialect.ts). Every statement is one round trip; removing a user or changing its password
// ends its sessions in the same transaction (the ops run them together).
import { shared } from './dialect.js';
import type { DashboardRole, DashboardSession, DashboardUser } from '../dashboard-store.js';

const USER_COLUMNS = 'username, password_hash, role, account, created_at, updated_at';

/** $1 username … $6 updated_at; no row back when the name is taken. */
export const ADD_USER = shared(`INSERT INTO dashboard_user (${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (username) DO NOTHING RETURNING username`);
export const GET_USER = shared(`SELECT ${USER_COLUMNS} FROM dashboard_user WHERE username = $1`);
export const LIST_USERS = shared(`SELECT ${USER_COLUMNS} FROM dashboard_user ORDER BY username`);
export const REMOVE_USER = shared('DELETE FROM dashboard_user WHERE username = $1 RETURNING username');
export const SET_PASSWORD = shared('UPDATE dashboard_user SET password_hash = $2, updated_at = $3 WHERE username = $1 RETURNING username');
export const END_USER_SESSIONS = shared('DELETE FROM dashboard_session WHERE username = $1');

export const ADD_SESSION = shared(`INSERT INTO dashboard_session (token_hash, username, created_at, expires_at, idle_until)
  VALUES ($1, $2, $3, $4, $5)`);
/** $1 now: sessions that ended (idle_until never passes expires_at; dashboard_session_end). */
export const PURGE_SESSIONS = shared('DELETE FROM dashboard_session WHERE idle_until <= $1');
/** $1 token hash, $2 now. */
export const GET_SESSION = shared(`SELECT s.token_hash, s.created_at AS session_created_at, s.expires_at, s.idle_until,
    u.username, u.password_hash, u.role, u.account, u.created_at, u.updated_at
  FROM dashboard_session s JOIN dashboard_user u ON u.username = s.username
  WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.idle_until > $2`);
/** $1 token hash, $2 idle until (capped at the session's expiry). */
export const TOUCH_SESSION = shared(`UPDATE dashboard_session SET idle_until = CASE WHEN $2 < expires_at THEN $2 ELSE expires_at END
  WHERE token_hash = $1 AND idle_until < $2`);
export const DELETE_SESSION = shared('DELETE FROM dashboard_session WHERE token_hash = $1 RETURNING token_hash');

export interface DashboardUserRow {
  username: string; password_hash: string; role: string; account: string | null; created_at: number | string; updated_at: number | string;
}
export interface DashboardSessionRow extends DashboardUserRow {
  token_hash: string; session_created_at: number | string; expires_at: number | string; idle_until: number | string;
}

export const userValues = (u: DashboardUser): unknown[] => [u.username, u.passwordHash, u.role, u.account, u.createdAt, u.updatedAt];
export const sessionValues = (s: DashboardSession): unknown[] => [s.tokenHash, s.username, s.createdAt, s.expiresAt, s.idleUntil];

export const toUser = (r: DashboardUserRow): DashboardUser => ({
  username: r.username, passwordHash: r.password_hash, role: r.role as DashboardRole, account: r.account,
  createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});

export const toSession = (r: DashboardSessionRow): { session: DashboardSession; user: DashboardUser } => ({
  session: {
    tokenHash: r.token_hash, username: r.username, createdAt: Number(r.session_created_at),
    expiresAt: Number(r.expires_at), idleUntil: Number(r.idle_until),
  },
  user: toUser(r),
});
