// Row shapes and mappers that are the same in every store implementation (no SQL dialect here):
// recipient domains, domain-grant normalization, DKIM key rows, and an attempt's timeline columns.
import type { AttemptRecord, DkimKey } from './store.js';

/** Lower-case domain of an address (the part after the last @): the unit of delivery. */
export const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** Grants are stored lower-case, deduplicated and sorted. */
export const normalizeDomains = (domains: readonly string[]) => [...new Set(domains.map((d) => d.toLowerCase()))].sort();

export interface DomainRow { name: string; created_at: number; account: string }
export interface KeyRow {
  domain: string; selector: string; algorithm: DkimKey['algorithm']; private_key: string; public_key: string;
  created_at: number; state: DkimKey['state'];
}

export const toKey = (k: KeyRow): DkimKey => ({
  selector: k.selector, algorithm: k.algorithm, privateKey: k.private_key, publicKey: k.public_key, createdAt: k.created_at, state: k.state,
});

/** An attempt row's remote IP and duration (SQLite v18 / PostgreSQL v15), present only when stored. */
export const optionalAttemptFields = (a: { remote_ip: string | null; duration_ms: number | null }): Pick<AttemptRecord, 'remoteIp' | 'durationMs'> => ({
  ...(a.remote_ip ? { remoteIp: a.remote_ip } : {}), ...(a.duration_ms !== null && a.duration_ms !== undefined ? { durationMs: Number(a.duration_ms) } : {}),
});
