// Owns DKIM key material: generating RSA-2048 and Ed25519 keys (node:crypto, off the event loop),
// importing an operator's existing PEM key, deriving the public key's p= value, and the DKIM TXT
// record value `v=DKIM1; k=…; p=…` (RFC 6376 §3.6.1, RFC 8463 for Ed25519).
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import { RelayError } from '../errors.js';
import type { DkimAlgorithm, DkimKey, DkimKeyState } from '../store/store.js';
import { isValidSelector } from './domain-name.js';

const generate = promisify(generateKeyPair);

/** What `domains add --key` accepts. */
export type KeyChoice = 'rsa2048' | 'ed25519' | 'both';
export const KEY_CHOICES: readonly KeyChoice[] = ['rsa2048', 'ed25519', 'both'];

/** Receivers ignore RSA keys under 1024 bits (RFC 8301); 2048 is what we generate. */
const MIN_RSA_BITS = 1024;
const RSA_BITS = 2048;
/** SPKI DER prefix of an Ed25519 public key; the DKIM p= value is the 32 bytes after it (RFC 8463 §4.2). */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface KeyMaterial { algorithm: DkimAlgorithm; privateKey: string; publicKey: string }

export class DkimKeyError extends RelayError {
  constructor(message: string) { super('ERR_DKIM_KEY', message); }
}

/** The p= value of a public (or private) key. */
export function publicKeyValue(key: KeyObject): string {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (key.asymmetricKeyType === 'ed25519') return spki.subarray(ED25519_SPKI_PREFIX.length).toString('base64');
  return spki.toString('base64');
}

function toMaterial(privateKey: KeyObject): KeyMaterial {
  const type = privateKey.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ed25519') throw new DkimKeyError(`unsupported key type ${type ?? 'unknown'}: DKIM keys are RSA or Ed25519`);
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (type === 'rsa' && bits < MIN_RSA_BITS) throw new DkimKeyError(`RSA key of ${bits} bits is too short: receivers ignore keys under ${MIN_RSA_BITS} bits`);
  return {
    algorithm: type,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKeyValue(privateKey),
  };
}

export async function generateDkimKey(algorithm: DkimAlgorithm): Promise<KeyMaterial> {
  const { privateKey } = algorithm === 'rsa'
    ? await generate('rsa', { modulusLength: RSA_BITS, publicExponent: 0x10001 })
    : await generate('ed25519');
  return toMaterial(privateKey);
}

/** An existing private key (PKCS#8 or PKCS#1 PEM, unencrypted), e.g. moved from another relay. */
export function importDkimKey(pem: string): KeyMaterial {
  let key: KeyObject;
  try { key = createPrivateKey({ key: pem, format: 'pem' }); } catch (err) {
    throw new DkimKeyError(`not an unencrypted PEM private key (${(err as Error).message})`);
  }
  return toMaterial(key);
}

export async function readDkimKeyFile(file: string): Promise<KeyMaterial> {
  let pem: string;
  try { pem = await fs.readFile(file, 'utf8'); } catch (err) {
    throw new DkimKeyError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return importDkimKey(pem);
}

/** The TXT record value published at <selector>._domainkey.<domain>. */
export const dkimRecordValue = (key: Pick<DkimKey, 'algorithm' | 'publicKey'>) => `v=DKIM1; k=${key.algorithm}; p=${key.publicKey}`;

/** The selector a new key gets when none is given: "pl" and the UTC date, e.g. pl20250701. */
export function defaultSelector(now: number): string {
  return `pl${new Date(now).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

/** Selectors for one or two keys: the base itself, or base-rsa / base-ed25519 for a dual-algorithm pair. */
export function selectorsFor(base: string, algorithms: readonly DkimAlgorithm[]): string[] {
  return algorithms.length === 1 ? [base] : algorithms.map((a) => `${base}-${a}`);
}

export const algorithmsOf = (choice: KeyChoice): DkimAlgorithm[] =>
  choice === 'both' ? ['rsa', 'ed25519'] : choice === 'rsa2048' ? ['rsa'] : ['ed25519'];

/** Stored DkimKey rows for materials already made, named from `base`. */
export function toDkimKeys(base: string, materials: KeyMaterial[], createdAt: number, state: DkimKeyState): DkimKey[] {
  const selectors = selectorsFor(base.toLowerCase(), materials.map((m) => m.algorithm));
  for (const s of selectors) if (!isValidSelector(s)) throw new DkimKeyError(`invalid selector "${s}" (letters, digits, inner hyphens)`);
  return materials.map((m, i) => ({ ...m, selector: selectors[i]!, createdAt, state }));
}
