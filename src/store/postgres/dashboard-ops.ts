// Dashboard users and sessions on PostgreSQL (store/dashboard-store.ts), on the shared statements
// (sql/dashboard.ts); each function runs in the caller's transaction.
import {
  ADD_SESSION, ADD_USER, DELETE_SESSION, END_USER_SESSIONS, GET_SESSION, GET_USER, LIST_USERS, PURGE_SESSIONS, REMOVE_USER,
  SET_PASSWORD, TOUCH_SESSION, sessionValues, toSession, toUser, userValues, type DashboardSessionRow, type DashboardUserRow,
} from '../sql/dashboard.js';
import type { DashboardSession, DashboardUser } from '../dashboard-store.js';
import type { Conn } from './rows.js';

export async function addDashboardUser(c: Conn, user: DashboardUser): Promise<boolean> {
  return ((await c.query(ADD_USER.text, userValues(user))).rowCount ?? 0) > 0;
}

export async function getDashboardUser(c: Conn, username: string): Promise<DashboardUser | null> {
  const row = (await c.query<DashboardUserRow>(GET_USER.text, [username])).rows[0];
  return row ? toUser(row) : null;
}

export async function listDashboardUsers(c: Conn): Promise<DashboardUser[]> {
  return (await c.query<DashboardUserRow>(LIST_USERS.text)).rows.map(toUser);
}

export async function removeDashboardUser(c: Conn, username: string): Promise<boolean> {
  await c.query(END_USER_SESSIONS.text, [username]);
  return ((await c.query(REMOVE_USER.text, [username])).rowCount ?? 0) > 0;
}

export async function setDashboardPassword(c: Conn, username: string, passwordHash: string, now: number): Promise<boolean> {
  await c.query(END_USER_SESSIONS.text, [username]);
  return ((await c.query(SET_PASSWORD.text, [username, passwordHash, now])).rowCount ?? 0) > 0;
}

export async function createDashboardSession(c: Conn, session: DashboardSession, now: number): Promise<void> {
  await c.query(PURGE_SESSIONS.text, [now]);
  await c.query(ADD_SESSION.text, sessionValues(session));
}

export async function getDashboardSession(c: Conn, tokenHash: string, now: number): Promise<{ session: DashboardSession; user: DashboardUser } | null> {
  const row = (await c.query<DashboardSessionRow>(GET_SESSION.text, [tokenHash, now])).rows[0];
  return row ? toSession(row) : null;
}

export async function touchDashboardSession(c: Conn, tokenHash: string, idleUntil: number): Promise<void> {
  await c.query(TOUCH_SESSION.text, [tokenHash, idleUntil]);
}

export async function deleteDashboardSession(c: Conn, tokenHash: string): Promise<boolean> {
  return ((await c.query(DELETE_SESSION.text, [tokenHash])).rowCount ?? 0) > 0;
}
