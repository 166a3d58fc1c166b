// `postlane secrets rotate`: a new installation secret for VERP return paths ('bounce') and for
// unsubscribe and tracking links ('links'), or both. The previous secrets still verify for 30 days
// (links in mail already sent keep working); every node picks the new one up within a minute.
import type { Command } from 'commander';
import { systemClock } from '../clock.js';
import { RelayError } from '../errors.js';
import { rotateSecret, SECRET_GRACE_MS } from '../events/secret-ring.js';
import { SECRET_PURPOSES, type SecretPurpose } from '../store/secret-store.js';
import { configOption, withStore } from './admin-store.js';

export function registerSecretCommands(program: Command) {
  const secrets = program.command('secrets').description('the installation secrets that sign return paths and links');
  secrets.command('rotate').description('make a new secret (the previous ones still verify for 30 days)')
    .argument('[purpose]', `${SECRET_PURPOSES.join(', ')} or all`, 'all')
    .addOption(configOption())
    .action(async (purpose: string, o: { config?: string }) => {
      if (purpose !== 'all' && !(SECRET_PURPOSES as readonly string[]).includes(purpose)) {
        throw new RelayError('ERR_USAGE', `purpose must be ${SECRET_PURPOSES.join(', ')} or all`);
      }
      const which = purpose === 'all' ? [...SECRET_PURPOSES] : [purpose as SecretPurpose];
      await withStore(o.config, async (store) => {
        for (const p of which) await rotateSecret(store, p, systemClock);
      });
      console.log(`rotated: ${which.join(', ')} (previous secrets verify for ${SECRET_GRACE_MS / 86_400_000} more days)`);
    });
}
