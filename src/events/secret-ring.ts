// Owns this process's copy of the installation secrets of one purpose (store/secret-store.ts):
// loaded at start (and created, the first time the installation runs), refreshed from the store
// every minute so a rotation done on any node (`postlane secrets rotate`) reaches every node
// without a restart. The newest secret signs; every kept one verifies.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { SecretPurpose, SecretStore } from '../store/secret-store.js';

/** How long a replaced secret still verifies: links in mail sent before a rotation keep working. */
export const SECRET_GRACE_MS = 30 * 24 * 3_600_000;
const SECRET_BYTES = 32;

/** What signers and verifiers need: the secrets, current first. */
export interface Secrets { all(): readonly Buffer[]; current(): Buffer }

export class SecretRing implements Secrets {
  #secrets: Buffer[] = [];
  private constructor(private readonly store: SecretStore, private readonly purpose: SecretPurpose, private readonly clock: Clock) {}

  /** Loads the purpose's secrets, creating the first one if the installation has none. */
  static async open(store: SecretStore, purpose: SecretPurpose, clock: Clock): Promise<SecretRing> {
    const ring = new SecretRing(store, purpose, clock);
    await ring.refresh();
    if (ring.#secrets.length === 0) {
      const now = clock.now();
      await store.addSecret(purpose, randomBytes(SECRET_BYTES), now, now - SECRET_GRACE_MS);
      await ring.refresh();
    }
    return ring;
  }

  async refresh(): Promise<void> {
    const found = await this.store.getSecrets(this.purpose);
    if (found.length > 0) this.#secrets = found;
  }

  all(): readonly Buffer[] { return this.#secrets; }
  current(): Buffer { return this.#secrets[0]!; }
}

/** A new current secret; the previous ones verify for SECRET_GRACE_MS more. */
export async function rotateSecret(store: SecretStore, purpose: SecretPurpose, clock: Clock): Promise<void> {
  const now = clock.now();
  await store.addSecret(purpose, randomBytes(SECRET_BYTES), now, now - SECRET_GRACE_MS);
}

/** Fixed secrets (tests, tools). */
export const fixedSecrets = (...secrets: Buffer[]): Secrets => ({ all: () => secrets, current: () => secrets[0]! });
