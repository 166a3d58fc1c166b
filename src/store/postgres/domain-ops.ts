// Operations on sending domains, their DKIM keys and users' domain grants. Writes run inside the
// store's transaction; domain names and selectors are stored lower-case.
import type { DkimKey, SendingDomain, UserChange, UserDomainGrant } from '../store.js';
import { toKey, type DomainRow, type KeyRow } from '../row-mapping.js';
import { requireAccount, setUserDefaultStream, setUserLimits } from './account-ops.js';
import { normalizeDomains, OpError, prepared, runPrepared, type Conn } from './rows.js';


const KEYS_IN_ORDER = 'ORDER BY created_at, seq'; // oldest first, then in the order added

async function insertKey(c: Conn, domain: string, k: DkimKey): Promise<void> {
  const r = await c.query(`INSERT INTO dkim_key (domain, selector, algorithm, private_key, public_key, created_at, state)
                           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (domain, selector) DO NOTHING`,
  [domain, k.selector.toLowerCase(), k.algorithm, k.privateKey, k.publicKey, k.createdAt, k.state]);
  if (r.rowCount === 0) throw new OpError('selector-exists', `selector ${k.selector} already exists for ${domain}`);
}

/** Used by addUser too: the rows of a user's allowed domains. */
export async function insertUserDomains(c: Conn, user: string, domains: readonly string[]): Promise<void> {
  const list = normalizeDomains(domains);
  if (list.length === 0) return;
  await c.query('INSERT INTO smtp_user_domain (user_name, domain) SELECT $1, d FROM unnest($2::text[]) AS d', [user, list]);
}

export async function addDomain(c: Conn, d: SendingDomain): Promise<void> {
  const name = d.name.toLowerCase();
  const account = d.account ?? 'default';
  await requireAccount(c, account);
  const r = await c.query('INSERT INTO sending_domain (name, created_at, account) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING',
    [name, d.createdAt, account]);
  if (r.rowCount === 0) throw new OpError('domain-exists', `domain ${name} already exists`);
  for (const k of d.keys) await insertKey(c, name, k);
}

export async function removeDomain(c: Conn, name: string): Promise<boolean> {
  return ((await c.query('DELETE FROM sending_domain WHERE name = $1', [name.toLowerCase()])).rowCount ?? 0) > 0; // cascades to keys
}

export async function addDkimKey(c: Conn, domain: string, key: DkimKey): Promise<void> {
  const name = domain.toLowerCase();
  const d = await c.query('SELECT 1 FROM sending_domain WHERE name = $1 FOR UPDATE', [name]);
  if (d.rowCount === 0) throw new OpError('not-found', `domain ${name}`);
  await insertKey(c, name, key);
}

/** Activates the key and retires the other active keys of its algorithm, in one transaction. */
export async function activateDkimKey(c: Conn, domain: string, selector: string): Promise<boolean> {
  const name = domain.toLowerCase();
  const sel = selector.toLowerCase();
  await c.query('SELECT 1 FROM sending_domain WHERE name = $1 FOR UPDATE', [name]); // serializes rotations of one domain
  const key = await c.query<{ algorithm: string }>('SELECT algorithm FROM dkim_key WHERE domain = $1 AND selector = $2', [name, sel]);
  if (key.rowCount === 0) return false;
  await c.query(`UPDATE dkim_key SET state = 'retired' WHERE domain = $1 AND algorithm = $2 AND state = 'active' AND selector <> $3`,
    [name, key.rows[0]!.algorithm, sel]);
  await c.query(`UPDATE dkim_key SET state = 'active' WHERE domain = $1 AND selector = $2`, [name, sel]);
  return true;
}

/** Every part given, in the caller's transaction; false (nothing changed) if no such user. */
export async function changeUser(c: Conn, user: string, change: UserChange): Promise<boolean> {
  if ((await c.query('SELECT 1 FROM smtp_user WHERE name = $1 FOR UPDATE', [user])).rowCount === 0) return false;
  if (change.grant) await setUserDomains(c, user, change.grant);
  if (change.limits) await setUserLimits(c, user, change.limits);
  if (change.defaultStream) await setUserDefaultStream(c, user, change.defaultStream);
  return true;
}

export async function setUserDomains(c: Conn, user: string, grant: UserDomainGrant): Promise<boolean> {
  const r = await c.query('UPDATE smtp_user SET any_domain = $1 WHERE name = $2', [grant.anyDomain, user]);
  if (r.rowCount === 0) return false;
  await c.query('DELETE FROM smtp_user_domain WHERE user_name = $1', [user]);
  await insertUserDomains(c, user, grant.allowedDomains);
  return true;
}

// Looked up for every message signed (the From: domain and its parents): prepared (rows.ts).
const DOMAIN = prepared('domain', 'SELECT name, created_at, account FROM sending_domain WHERE name = $1');
const DOMAIN_KEYS = prepared('domain_keys', `SELECT domain, selector, algorithm, private_key, public_key, created_at, state
                                             FROM dkim_key WHERE domain = $1 ${KEYS_IN_ORDER}`);

export async function getDomain(c: Conn, name: string): Promise<SendingDomain | null> {
  const d = (await runPrepared<DomainRow>(c, DOMAIN, [name.toLowerCase()])).rows[0];
  if (!d) return null;
  const keys = await runPrepared<KeyRow>(c, DOMAIN_KEYS, [d.name]);
  return { name: d.name, createdAt: d.created_at, account: d.account, keys: keys.rows.map(toKey) };
}

/** All domains, or one account's (then only its domains' keys are read). */
export async function listDomains(c: Conn, account: string | null = null): Promise<SendingDomain[]> {
  const keys = new Map<string, DkimKey[]>();
  const keyRows = await c.query<KeyRow>(`SELECT * FROM dkim_key
    WHERE ($1::text IS NULL OR domain IN (SELECT name FROM sending_domain WHERE account = $1)) ${KEYS_IN_ORDER}`, [account]);
  for (const k of keyRows.rows) {
    keys.set(k.domain, [...(keys.get(k.domain) ?? []), toKey(k)]);
  }
  const domains = await c.query<DomainRow>('SELECT * FROM sending_domain WHERE ($1::text IS NULL OR account = $1) ORDER BY name COLLATE "C"', [account]);
  return domains.rows.map((d) => ({ name: d.name, createdAt: d.created_at, account: d.account, keys: keys.get(d.name) ?? [] }));
}

/** Read by the HTTP API every few seconds per account (its sender check): names only, no keys. */
const DOMAIN_NAMES = prepared('domain_names', 'SELECT name FROM sending_domain WHERE account = $1 ORDER BY name COLLATE "C"');

export async function listDomainNames(c: Conn, account: string): Promise<string[]> {
  return (await runPrepared<{ name: string }>(c, DOMAIN_NAMES, [account])).rows.map((r) => r.name);
}
