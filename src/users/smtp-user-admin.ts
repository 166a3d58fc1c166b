// Owns creating and changing SMTP AUTH users and checking their domain grants, the one path of
// `postlane users add|allow|limits|stream` and POST / PATCH /v1/smtp-users. A user of account X may be granted a domain only if it (or a
// parent domain) is a sending domain of X; users of 'default' may also be granted domains that are
// not sending domains (the single-tenant setup), but never another account's domain. Passwords are
// hashed here (scrypt, users/password.ts) and never returned or logged.
import { NotFoundError, RelayError } from '../errors.js';
import type { QueueStore, UserRecord } from '../store/store.js';
import type { RateLimits } from '../store/platform-store.js';
import { mergeLimits, type LimitsChange } from '../accounts/rate-limits.js';
import { DEFAULT_ACCOUNT } from '../store/platform-store.js';
import { hashPassword, isValidUserName } from './password.js';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/** The sending domain that owns `domain` (itself or its nearest parent), if any. */
async function owningDomain(store: Pick<QueueStore, 'getDomain'>, domain: string) {
  const labels = domain.split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const found = await store.getDomain(labels.slice(i).join('.'));
    if (found) return found;
  }
  return null;
}

/** Refuses granting `domains` to a user of `account` (ERR_DOMAIN_ACCOUNT; see the header). */
export async function checkDomainsBelong(store: Pick<QueueStore, 'getDomain'>, account: string, domains: string[]): Promise<void> {
  for (const d of domains) {
    const owner = await owningDomain(store, d);
    const ownerAccount = owner ? owner.account ?? DEFAULT_ACCOUNT : null;
    if (ownerAccount === account || (ownerAccount === null && account === DEFAULT_ACCOUNT)) continue;
    throw new RelayError('ERR_DOMAIN_ACCOUNT', ownerAccount === null
      ? `${d} is not a sending domain of account ${account}: add it first with "postlane domains add ${d} --account ${account}"`
      : `${d} belongs to another account, not to ${account}`);
  }
}

/** ERR_USAGE unless the password is long enough (and not absurdly long). */
export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new RelayError('ERR_USAGE', `password too short (${MIN_PASSWORD_LENGTH} characters at least)`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new RelayError('ERR_USAGE', `password too long (${MAX_PASSWORD_LENGTH} characters at most)`);
}

export interface NewSmtpUser {
  name: string; password: string; account: string; allowedDomains: string[]; anyDomain: boolean;
  limits: RateLimits; defaultStream: UserRecord['defaultStream']; now: number;
}

/** Checks the name, account, grant and password, hashes the password and stores the user (ERR_USER_EXISTS if taken). */
export async function createSmtpUser(store: Pick<QueueStore, 'getAccount' | 'getDomain' | 'addUser'>, u: NewSmtpUser): Promise<void> {
  if (!isValidUserName(u.name)) throw new RelayError('ERR_USAGE', `invalid user name "${u.name}" (letters, digits, . _ @ + -)`);
  if (!(await store.getAccount(u.account))) throw new NotFoundError(`account ${u.account}`);
  await checkDomainsBelong(store, u.account, u.allowedDomains);
  checkPassword(u.password);
  const passwordHash = await hashPassword(u.password);
  await store.addUser({
    name: u.name, passwordHash, createdAt: u.now, allowedDomains: u.allowedDomains, anyDomain: u.anyDomain,
    account: u.account, limits: u.limits, defaultStream: u.defaultStream,
  });
}

/** What a change names (anything absent stays): the whole domain grant, some limit windows, the stream. */
export interface SmtpUserChange {
  allowedDomains?: string[]; anyDomain?: boolean; limits?: LimitsChange; defaultStream?: UserRecord['defaultStream'];
}

type ChangeStore = Pick<QueueStore, 'getUser' | 'getDomain' | 'changeUser'>;

/**
 * Checks the whole change, then applies it in one store transaction and answers the stored user. Only newly granted domains
 * are checked (ERR_DOMAIN_ACCOUNT): a grant the user already holds stays grantable. With
 * `opts.account`, a user of another account is ERR_NOT_FOUND, as is no such user.
 */
export async function changeSmtpUser(store: ChangeStore, name: string, change: SmtpUserChange, opts: { account?: string } = {}): Promise<UserRecord> {
  const user = await store.getUser(name);
  const missing = () => new NotFoundError(`user ${name}`);
  if (!user || (opts.account !== undefined && user.account !== opts.account)) throw missing();
  const domains = change.allowedDomains === undefined ? undefined : [...new Set(change.allowedDomains)];
  if (domains) await checkDomainsBelong(store, user.account, domains.filter((d) => !user.allowedDomains.includes(d)));
  const grant = domains || change.anyDomain !== undefined
    ? { allowedDomains: domains ?? user.allowedDomains, anyDomain: change.anyDomain ?? user.anyDomain } : undefined;
  const limits = change.limits && Object.keys(change.limits).length ? mergeLimits(user.limits, change.limits) : undefined;
  if ((grant || limits || change.defaultStream) && !(await store.changeUser(name, { grant, limits, defaultStream: change.defaultStream }))) throw missing();
  const stored = await store.getUser(name);
  if (!stored) throw missing();
  return stored;
}
