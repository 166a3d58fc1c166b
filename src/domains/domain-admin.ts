// Owns adding a sending domain to an account, the one path of `postlane domains add` and
// POST /v1/domains: the account must exist, and a domain inside (or above) another account's
// sending domain is refused (ERR_DOMAIN_ACCOUNT), so one tenant cannot sign as a subdomain of
// another's. The name is globally unique: a taken name is ERR_DOMAIN_EXISTS (from the store).
import { NotFoundError, RelayError } from '../errors.js';
import type { QueueStore, SendingDomain } from '../store/store.js';
import { DEFAULT_ACCOUNT } from '../store/platform-store.js';
import { domainAndParents, isWithinDomain } from './domain-name.js';
import { newSendingDomain, type NewDomainOptions } from './sending-domain.js';

type DomainAdminStore = Pick<QueueStore, 'getAccount' | 'getDomain' | 'listDomains' | 'addDomain'>;

const ownerOf = (d: SendingDomain) => d.account ?? DEFAULT_ACCOUNT;

/** Refuses `name` for `account` when a parent or a subdomain of it is another account's sending domain. */
export async function checkDomainOwnership(store: Pick<QueueStore, 'getDomain' | 'listDomains'>, name: string, account: string): Promise<void> {
  for (const parent of domainAndParents(name).filter((p) => p !== name)) {
    const found = await store.getDomain(parent);
    if (found && ownerOf(found) !== account) throw new RelayError('ERR_DOMAIN_ACCOUNT', `${name} is inside a domain of another account`);
  }
  const child = (await store.listDomains()).find((d) => d.name !== name && isWithinDomain(d.name, name) && ownerOf(d) !== account);
  if (child) throw new RelayError('ERR_DOMAIN_ACCOUNT', `${name} contains a domain of another account`);
}

/** Creates `name` (already normalized) with its first key(s) in `account`; returns the stored domain. */
export async function addSendingDomain(store: DomainAdminStore, name: string, account: string, opts: NewDomainOptions): Promise<SendingDomain> {
  if (!(await store.getAccount(account))) throw new NotFoundError(`account ${account}`);
  await checkDomainOwnership(store, name, account);
  const domain = { ...await newSendingDomain(name, opts), account };
  await store.addDomain(domain);
  return domain;
}
