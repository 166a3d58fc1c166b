// Owns making a new sending domain: its first DKIM key(s), generated (RSA-2048, Ed25519 or both)
// or imported from the operator's PEM (to move from another relay without touching DNS).
import type { SendingDomain } from '../store/store.js';
import { algorithmsOf, defaultSelector, generateDkimKey, importDkimKey, toDkimKeys, type KeyChoice } from './dkim-keys.js';
import { expectedRecords, type ExpectedRecord, type RecordContext } from './dns-records.js';

export interface NewDomainOptions {
  /** Keys to generate (default rsa2048); ignored when privateKeyPem is given. */
  key?: KeyChoice;
  /** Selector (base, for two keys); default pl<yyyymmdd>. */
  selector?: string;
  /** An existing private key to import instead of generating one. */
  privateKeyPem?: string;
  now: number;
}

/** `name` must already be normalized (domain-name.ts normalizeDomain). Keys are created active. */
export async function newSendingDomain(name: string, opts: NewDomainOptions): Promise<SendingDomain> {
  const materials = opts.privateKeyPem !== undefined
    ? [importDkimKey(opts.privateKeyPem)]
    : await Promise.all(algorithmsOf(opts.key ?? 'rsa2048').map(generateDkimKey));
  const keys = toDkimKeys(opts.selector ?? defaultSelector(opts.now), materials, opts.now, 'active');
  return { name, createdAt: opts.now, keys };
}

/** The records to publish for a stored domain. */
export const recordsFor = (d: SendingDomain, ctx: RecordContext): ExpectedRecord[] => expectedRecords(d.name, d.keys, d.createdAt, ctx);
