// The executor's operations on sending domains, their DKIM keys and users' domain grants. Writes
// run inside a savepoint of the current group-commit transaction (like write-ops.ts); reads run on
// the read-only connection. Domain names and selectors are stored lower-case.
import type { DkimKey, SendingDomain, UserChange, UserDomainGrant } from '../store.js';
import { toKey, type DomainRow, type KeyRow } from '../row-mapping.js';
import { ACCOUNT_WRITES, requireAccount } from './account-ops.js';
import { normalizeDomains, OpError, sql, type Db, type Effects } from './rows.js';


const KEYS_IN_ORDER = 'ORDER BY created_at, rowid'; // oldest first, then in the order added

function insertKey(db: Db, domain: string, k: DkimKey): void {
  const r = sql(db, `INSERT INTO dkim_key (domain, selector, algorithm, private_key, public_key, created_at, state)
                     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (domain, selector) DO NOTHING`)
    .run(domain, k.selector.toLowerCase(), k.algorithm, k.privateKey, k.publicKey, k.createdAt, k.state);
  if (r.changes === 0) throw new OpError('selector-exists', `selector ${k.selector} already exists for ${domain}`);
}

/** Used by addUser too: the rows of a user's allowed domains. */
export function insertUserDomains(db: Db, user: string, domains: readonly string[]): void {
  const insert = sql(db, 'INSERT INTO smtp_user_domain (user_name, domain) VALUES (?, ?)');
  for (const d of normalizeDomains(domains)) insert.run(user, d);
}

export const DOMAIN_WRITES = {
  addDomain(db: Db, _fx: Effects, d: SendingDomain): void {
    const name = d.name.toLowerCase();
    const account = d.account ?? 'default';
    requireAccount(db, account);
    const r = sql(db, 'INSERT INTO sending_domain (name, created_at, account) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING')
      .run(name, d.createdAt, account);
    if (r.changes === 0) throw new OpError('domain-exists', `domain ${name} already exists`);
    for (const k of d.keys) insertKey(db, name, k);
  },

  removeDomain(db: Db, _fx: Effects, name: string): boolean {
    return sql(db, 'DELETE FROM sending_domain WHERE name = ?').run(name.toLowerCase()).changes > 0; // cascades to keys
  },

  addDkimKey(db: Db, _fx: Effects, domain: string, key: DkimKey): void {
    const name = domain.toLowerCase();
    if (!sql(db, 'SELECT 1 FROM sending_domain WHERE name = ?').get(name)) throw new OpError('not-found', `domain ${name}`);
    insertKey(db, name, key);
  },

  activateDkimKey(db: Db, _fx: Effects, domain: string, selector: string): boolean {
    const name = domain.toLowerCase();
    const key = sql(db, 'SELECT algorithm FROM dkim_key WHERE domain = ? AND selector = ?').get(name, selector.toLowerCase()) as
      { algorithm: string } | undefined;
    if (!key) return false;
    sql(db, `UPDATE dkim_key SET state = 'retired' WHERE domain = ? AND algorithm = ? AND state = 'active' AND selector <> ?`)
      .run(name, key.algorithm, selector.toLowerCase());
    sql(db, `UPDATE dkim_key SET state = 'active' WHERE domain = ? AND selector = ?`).run(name, selector.toLowerCase());
    return true;
  },

  changeUser(db: Db, fx: Effects, user: string, change: UserChange): boolean {
    if (!sql(db, 'SELECT 1 FROM smtp_user WHERE name = ?').get(user)) return false;
    if (change.grant) DOMAIN_WRITES.setUserDomains(db, fx, user, change.grant);
    if (change.limits) ACCOUNT_WRITES.setUserLimits(db, fx, user, change.limits);
    if (change.defaultStream) ACCOUNT_WRITES.setUserDefaultStream(db, fx, user, change.defaultStream);
    return true;
  },

  setUserDomains(db: Db, _fx: Effects, user: string, grant: UserDomainGrant): boolean {
    if (sql(db, 'UPDATE smtp_user SET any_domain = ? WHERE name = ?').run(grant.anyDomain ? 1 : 0, user).changes === 0) return false;
    sql(db, 'DELETE FROM smtp_user_domain WHERE user_name = ?').run(user);
    insertUserDomains(db, user, grant.allowedDomains);
    return true;
  },
};

export const DOMAIN_READS = {
  getDomain(db: Db, name: string): SendingDomain | null {
    const d = sql(db, 'SELECT * FROM sending_domain WHERE name = ?').get(name.toLowerCase()) as DomainRow | undefined;
    if (!d) return null;
    const keys = sql(db, `SELECT * FROM dkim_key WHERE domain = ? ${KEYS_IN_ORDER}`).all(d.name) as KeyRow[];
    return { name: d.name, createdAt: d.created_at, account: d.account, keys: keys.map(toKey) };
  },

  /** All domains, or one account's (then only its domains' keys are read). */
  listDomains(db: Db, account: string | null = null): SendingDomain[] {
    const keys = new Map<string, DkimKey[]>();
    const keyRows = sql(db, `SELECT * FROM dkim_key WHERE (@account IS NULL OR domain IN (SELECT name FROM sending_domain WHERE account = @account)) ${KEYS_IN_ORDER}`)
      .all({ account }) as KeyRow[];
    for (const k of keyRows) {
      keys.set(k.domain, [...(keys.get(k.domain) ?? []), toKey(k)]);
    }
    return (sql(db, 'SELECT * FROM sending_domain WHERE (@account IS NULL OR account = @account) ORDER BY name').all({ account }) as DomainRow[])
      .map((d) => ({ name: d.name, createdAt: d.created_at, account: d.account, keys: keys.get(d.name) ?? [] }));
  },

  /** The HTTP API's sender check, every few seconds per account: names only, no keys. */
  listDomainNames(db: Db, account: string): string[] {
    return sql(db, 'SELECT name FROM sending_domain WHERE account = ? ORDER BY name').pluck().all(account) as string[];
  },
};
