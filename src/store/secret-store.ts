// The installation's secrets in the store contract: MAC keys for the VERP return path ('bounce')
// and for unsubscribe and tracking links ('links'). They live in the database so every node of a
// cluster signs and verifies alike, and survive restarts. The newest secret of a purpose signs;
// every kept secret verifies, so a rotation does not break links already sent. A secret is
// retired (deleted) once its successor is older than the grace period.
export type SecretPurpose = 'bounce' | 'links';
export const SECRET_PURPOSES: readonly SecretPurpose[] = ['bounce', 'links'];

export interface SecretStore {
  /** The purpose's secrets, newest first (empty: none yet). */
  getSecrets(purpose: SecretPurpose): Promise<Buffer[]>;
  /** Adds a secret created at `createdAt`, then deletes those whose successor was created before `retireBefore`. */
  addSecret(purpose: SecretPurpose, secret: Buffer, createdAt: number, retireBefore: number): Promise<void>;
}
