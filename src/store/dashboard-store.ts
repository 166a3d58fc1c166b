// The dashboard's part of the store interface (issue 12): dashboard users (an admin, or a user
// scoped to one account; the password hashed as for SMTP users, src/users/password.ts) and their
// login sessions. A session row holds only the SHA-256 of its token (the cookie), so a copy of the
// database cannot be replayed as a login; it ends at `expiresAt` (absolute) or at `idleUntil`,
// which each use of the session moves forward (src/http/dashboard/sessions.ts sets both).

export type DashboardRole = 'admin' | 'account';

export interface DashboardUser {
  username: string;
  /** scrypt$N$r$p$salt$hash (src/users/password.ts). */
  passwordHash: string;
  role: DashboardRole;
  /** The account an 'account' user sees; null for an admin. */
  account: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface DashboardSession {
  /** SHA-256 (hex) of the session token; the token itself is never stored. */
  tokenHash: string;
  username: string;
  createdAt: number;
  /** ms; the session ends then whatever its use. */
  expiresAt: number;
  /** ms; the session ends then unless it is used (touched) before. */
  idleUntil: number;
}

export interface DashboardStore {
  /** false when the user name is taken. */
  addDashboardUser(user: DashboardUser): Promise<boolean>;
  getDashboardUser(username: string): Promise<DashboardUser | null>;
  /** By user name. */
  listDashboardUsers(): Promise<DashboardUser[]>;
  /** Removes the user and ends its sessions; false when there is no such user. */
  removeDashboardUser(username: string): Promise<boolean>;
  /** Sets a new password hash and ends every session of the user; false when there is no such user. */
  setDashboardPassword(username: string, passwordHash: string, now: number): Promise<boolean>;
  /** Stores a new session, and deletes the sessions that ended before `now`. */
  createDashboardSession(session: DashboardSession, now: number): Promise<void>;
  /** The live session (not past expiresAt nor idleUntil at `now`) and its user; null otherwise. */
  getDashboardSession(tokenHash: string, now: number): Promise<{ session: DashboardSession; user: DashboardUser } | null>;
  /** Moves a live session's idleUntil forward (never past its expiresAt). */
  touchDashboardSession(tokenHash: string, idleUntil: number): Promise<void>;
  /** Ends one session (logout); false when there was none. */
  deleteDashboardSession(tokenHash: string): Promise<boolean>;
}
