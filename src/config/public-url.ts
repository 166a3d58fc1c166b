// The public base URL of the HTTP listener, for links Postlane puts in mail (one-click unsubscribe,
// tracking): config publicUrl, else https://<hostname> (the listener behind a TLS proxy there).
import type { Config } from './schema.js';

export const publicBaseUrl = (config: Pick<Config, 'publicUrl' | 'hostname'>): string =>
  (config.publicUrl ?? `https://${config.hostname}`).replace(/\/+$/, '');
