// The executor's dashboard operations (store/dashboard-store.ts) on the shared statements
// (sql/dashboard.ts): user and session changes join the group commit like every write.
import {
  ADD_SESSION, ADD_USER, DELETE_SESSION, END_USER_SESSIONS, GET_SESSION, GET_USER, LIST_USERS, PURGE_SESSIONS, REMOVE_USER,
  SET_PASSWORD, TOUCH_SESSION, sessionValues, toSession, toUser, userValues, type DashboardSessionRow, type DashboardUserRow,
} from '../sql/dashboard.js';
import type { DashboardSession, DashboardUser } from '../dashboard-store.js';
import { all, run, type Db, type Effects } from './rows.js';

export const DASHBOARD_WRITES = {
  addDashboardUser(db: Db, _fx: Effects, user: DashboardUser): boolean {
    return all(db, ADD_USER, userValues(user)).length > 0;
  },
  removeDashboardUser(db: Db, _fx: Effects, username: string): boolean {
    run(db, END_USER_SESSIONS, [username]);
    return all(db, REMOVE_USER, [username]).length > 0;
  },
  setDashboardPassword(db: Db, _fx: Effects, username: string, passwordHash: string, now: number): boolean {
    run(db, END_USER_SESSIONS, [username]);
    return all(db, SET_PASSWORD, [username, passwordHash, now]).length > 0;
  },
  createDashboardSession(db: Db, _fx: Effects, session: DashboardSession, now: number): void {
    run(db, PURGE_SESSIONS, [now]);
    run(db, ADD_SESSION, sessionValues(session));
  },
  touchDashboardSession(db: Db, _fx: Effects, tokenHash: string, idleUntil: number): void {
    run(db, TOUCH_SESSION, [tokenHash, idleUntil]);
  },
  deleteDashboardSession(db: Db, _fx: Effects, tokenHash: string): boolean {
    return all(db, DELETE_SESSION, [tokenHash]).length > 0;
  },
};

export const DASHBOARD_READS = {
  getDashboardUser(db: Db, username: string): DashboardUser | null {
    const row = all<DashboardUserRow>(db, GET_USER, [username])[0];
    return row ? toUser(row) : null;
  },
  listDashboardUsers(db: Db): DashboardUser[] {
    return all<DashboardUserRow>(db, LIST_USERS, []).map(toUser);
  },
  getDashboardSession(db: Db, tokenHash: string, now: number): { session: DashboardSession; user: DashboardUser } | null {
    const row = all<DashboardSessionRow>(db, GET_SESSION, [tokenHash, now])[0];
    return row ? toSession(row) : null;
  },
};
