// Seeds API tenants straight into a store (an account, its sending domains with DKIM keys, API
// keys) and makes API calls with fetch. Used by the HTTP API tests before (or instead of) the CLI.
import { newApiKey } from '../../src/accounts/api-keys.js';
import { newSendingDomain } from '../../src/domains/sending-domain.js';
import { dkimRecords } from '../../src/domains/dns-records.js';
import type { ApiScope } from '../../src/store/platform-store.js';
import type { QueueStore } from '../../src/store/store.js';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/store/open-store.js';
import type { RelayProcess } from './relay-process.js';
import type { DnsServer } from './dns-server.js';

export interface Tenant {
  account: string;
  /** token per scope set name, e.g. tokens.send, tokens.read, tokens.admin */
  tokens: Record<string, string>;
  /** DKIM TXT records to publish: [name, value] */
  dkim: [string, string][];
}

export async function seedTenant(store: QueueStore, opts: {
  account: string; domains: string[]; keys: Record<string, ApiScope[]>; dkim?: 'rsa2048' | 'ed25519' | 'both';
}): Promise<Tenant> {
  const now = Date.now();
  if (!(await store.getAccount(opts.account))) await store.addAccount({ name: opts.account, createdAt: now, limits: {} });
  const dkim: [string, string][] = [];
  for (const name of opts.domains) {
    const d = await newSendingDomain(name, { key: opts.dkim ?? 'ed25519', selector: 's1', now });
    await store.addDomain({ ...d, account: opts.account });
    for (const r of dkimRecords(name, d.keys)) dkim.push([r.name, r.value]);
  }
  const tokens: Record<string, string> = {};
  for (const [label, scopes] of Object.entries(opts.keys)) {
    const { record, token } = newApiKey({ account: opts.account, scopes, name: label, now });
    await store.addApiKey(record);
    tokens[label] = token;
  }
  return { account: opts.account, tokens, dkim };
}

/**
 * Before `relay.start()`: the SMTP user app (password app-password, sending as acme.test) made by
 * the CLI, and the API tenant acme (acme.test, an Ed25519 key, a send key "app") written into the
 * relay's own store.
 */
export async function seedAcme(relay: RelayProcess): Promise<Tenant> {
  const made = await relay.cli(['users', 'add', 'app', '--password', 'app-password', '--domain', 'acme.test']);
  if (made.code !== 0) throw new Error(`users add app: exit ${made.code}`);
  return seedRelayTenant(relay, { account: 'acme', domains: ['acme.test'], keys: { app: ['send'] } });
}

/** Before `relay.start()`: seedTenant into the relay's own store; its DKIM TXT records published on `publishOn` if given. */
export async function seedRelayTenant(relay: RelayProcess, opts: Parameters<typeof seedTenant>[1], publishOn?: Pick<DnsServer, 'set'>): Promise<Tenant> {
  const admin = await openStore(loadConfig({ file: relay.configFile, env: {} }), pino({ level: 'silent' }), 'admin');
  await admin.open();
  let tenant: Tenant;
  try {
    tenant = await seedTenant(admin, opts);
  } finally {
    await admin.close();
  }
  if (publishOn) for (const [name, value] of tenant.dkim) publishOn.set(name, 'TXT', [value.match(/.{1,250}/g)!]);
  return tenant;
}

export interface ApiAnswer { status: number; headers: Headers; body: any; text: string }

/** One JSON call; `body` is sent as JSON unless it is a string (sent as is). */
export async function call(base: string, method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  return { status: res.status, headers: res.headers, body: parsed, text };
}
