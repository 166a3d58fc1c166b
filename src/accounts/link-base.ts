// The base URL of the links Postlane writes into an account's mail (one-click unsubscribe, open
// pixel, click redirects): publicUrl (config/public-url.ts), with the host replaced by the
// account's tracking domain when it has one (`postlane accounts tracking-domain`). Scheme, port
// and path stay publicUrl's: the tracking domain is a CNAME to the same listener (or to the same
// TLS proxy, which then needs a certificate for it). The HTTP listener serves /t/ and /u/ on any
// Host, and the tokens, not the host, say whose links they are, so a link stays valid when the
// account changes its domain.
import type { Logger } from 'pino';
import type { AccountCache } from './account-cache.js';

/** `base` with its host replaced by `host` (scheme, port and path kept), without a trailing slash. */
export function withHost(base: string, host: string): string {
  const url = new URL(base);
  url.hostname = host;
  return url.href.replace(/\/+$/, '');
}

export interface LinkBaseOf { of(account: string): Promise<string>; readonly publicBase: string }

export class LinkBase implements LinkBaseOf {
  constructor(readonly publicBase: string, private readonly accounts: AccountCache | null, private readonly logger?: Logger) {}

  /** The base for this account's links; publicUrl's when it has no tracking domain or the store cannot say. */
  async of(account: string): Promise<string> {
    if (!this.accounts) return this.publicBase;
    let domain: string | null | undefined;
    try {
      domain = (await this.accounts.get(account))?.trackingDomain;
    } catch (err) {
      // The links still work on publicUrl's host: better than refusing the message for it.
      domain = this.accounts.stale(account)?.trackingDomain;
      this.logger?.warn({ event: 'tracking.domain_unknown', account, err: (err as Error)?.message }, 'account not readable: links use the last known domain or publicUrl');
    }
    return domain ? withHost(this.publicBase, domain) : this.publicBase;
  }
}

/** A fixed base, for callers without accounts (tests, tools). */
export const fixedLinkBase = (base: string): LinkBaseOf => ({ publicBase: base, of: () => Promise.resolve(base) });
