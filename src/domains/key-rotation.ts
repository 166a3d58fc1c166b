// Owns DKIM key rotation: `rotateKey` adds a pending key (new selector) for each algorithm the
// domain signs with; the old key keeps signing. `promoteRotations`, run periodically by the relay,
// switches a domain to its pending key once that key's TXT record is seen in DNS (the store
// retires the old key in the same transaction). A retired key's record should stay published
// while mail signed with it may still be queued (delivery.maxQueueTime).
import type { Clock } from '../clock.js';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../events/log.js';
import type { DkimAlgorithm, DkimKey, QueueStore } from '../store/store.js';
import { defaultSelector, DkimKeyError, generateDkimKey, toDkimKeys } from './dkim-keys.js';
import { checkRecords, type RecordResolver } from './domain-check.js';
import { dkimRecords } from './dns-records.js';

type DomainStore = Pick<QueueStore, 'getDomain' | 'listDomains' | 'addDkimKey' | 'activateDkimKey'>;

/** A free selector base: the given one, else the dated default, suffixed b, c, … if taken. */
function freeBase(taken: Set<string>, algorithms: DkimAlgorithm[], base: string, explicit: boolean): string {
  const isFree = (b: string) => (algorithms.length === 1 ? [b] : algorithms.map((a) => `${b}-${a}`)).every((s) => !taken.has(s));
  if (isFree(base)) return base;
  if (explicit) throw new DkimKeyError(`selector ${base} is already used for this domain`);
  for (const suffix of 'bcdefghijklmnopqrstuvwxyz') if (isFree(base + suffix)) return base + suffix;
  throw new DkimKeyError('no free selector left for today; pass --selector');
}

/** Creates the pending key(s) of a rotation and returns them. */
export async function rotateKey(store: DomainStore, domain: string, opts: { clock: Clock; selector?: string }): Promise<DkimKey[]> {
  const d = await store.getDomain(domain);
  if (!d) throw new NotFoundError(`domain ${domain}`);
  if (d.keys.some((k) => k.state === 'pending')) throw new DkimKeyError(`${d.name} already has a pending key: publish its record first (domains records ${d.name})`);
  const active = [...new Set(d.keys.filter((k) => k.state === 'active').map((k) => k.algorithm))];
  const algorithms: DkimAlgorithm[] = active.length > 0 ? active.sort() : ['rsa'];
  const now = opts.clock.now();
  const base = freeBase(new Set(d.keys.map((k) => k.selector)), algorithms, (opts.selector ?? defaultSelector(now)).toLowerCase(), !!opts.selector);
  const keys = toDkimKeys(base, await Promise.all(algorithms.map(generateDkimKey)), now, 'pending');
  for (const k of keys) await store.addDkimKey(d.name, k);
  return keys;
}

export interface Promotion { domain: string; selector: string; algorithm: DkimAlgorithm }

/**
 * Activates every pending key whose TXT record DNS now answers with the right public key.
 * Lookup failures leave the key pending (tried again next time). Returns what was switched.
 */
export async function promoteRotations(deps: { store: DomainStore; resolver: RecordResolver; logger: Logger }): Promise<Promotion[]> {
  const promoted: Promotion[] = [];
  for (const d of await deps.store.listDomains()) {
    const pending = d.keys.filter((k) => k.state === 'pending');
    if (pending.length === 0) continue;
    for (const check of await checkRecords(dkimRecords(d.name, pending), deps.resolver)) {
      const key = check.record.key!;
      if (check.status !== 'ok') {
        deps.logger.debug({ event: 'dkim.rotation_waiting', domain: d.name, selector: key.selector, status: check.status }, 'new DKIM key not yet in DNS');
        continue;
      }
      if (await deps.store.activateDkimKey(d.name, key.selector)) {
        promoted.push({ domain: d.name, selector: key.selector, algorithm: key.algorithm });
        deps.logger.info({ event: 'dkim.key_rotated', domain: d.name, selector: key.selector, algorithm: key.algorithm },
          'DKIM key rotated: its record is published, signing with it now');
      }
    }
  }
  return promoted;
}
