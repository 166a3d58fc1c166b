// Owns adding and removing a sending domain of an account, the one path of `postlane domains
// add|remove` and POST / DELETE /v1/domains. Adding: the account must exist, and a domain inside (or above) another account's
// sending domain is refused (ERR_DOMAIN_ACCOUNT), so one tenant cannot sign as a subdomain of
// another's; so is a domain inside, above or equal to a grant held by another account's SMTP user
// (only the default account's users may hold a grant of a domain that is no sending domain, the
// single-tenant setup): that user would send as the new owner's domain, signed with its key. The name is globally unique: a taken name is ERR_DOMAIN_EXISTS (from the store).
// Removing: the domain and its keys go, and so do the grants of the account's SMTP users that name
// it or a subdomain of it, since once it is free any account may add it and the grant would let
// those users send as another tenant's domain.
import { NotFoundError, RelayError } from '../errors.js';
import type { QueueStore, SendingDomain } from '../store/store.js';
import { DEFAULT_ACCOUNT } from '../store/platform-store.js';
import { domainAndParents, isWithinDomain } from './domain-name.js';
import { newSendingDomain, type NewDomainOptions } from './sending-domain.js';

type DomainAdminStore = Pick<QueueStore, 'getAccount' | 'getDomain' | 'listDomains' | 'addDomain' | 'listUsers'>;

const ownerOf = (d: SendingDomain) => d.account ?? DEFAULT_ACCOUNT;

/** Refuses `name` for `account` when a parent or a subdomain of it is another account's sending domain. */
export async function checkDomainOwnership(store: Pick<QueueStore, 'getDomain' | 'listDomains' | 'listUsers'>, name: string, account: string): Promise<void> {
  for (const parent of domainAndParents(name).filter((p) => p !== name)) {
    const found = await store.getDomain(parent);
    if (found && ownerOf(found) !== account) throw new RelayError('ERR_DOMAIN_ACCOUNT', `${name} is inside a domain of another account`);
  }
  const child = (await store.listDomains()).find((d) => d.name !== name && isWithinDomain(d.name, name) && ownerOf(d) !== account);
  if (child) throw new RelayError('ERR_DOMAIN_ACCOUNT', `${name} contains a domain of another account`);
  const granted = (await store.listUsers()).find((u) => u.account !== account
    && u.allowedDomains.some((g) => isWithinDomain(name, g) || isWithinDomain(g, name)));
  if (granted) throw new RelayError('ERR_DOMAIN_ACCOUNT', `${name} is granted to SMTP user ${granted.name} of another account: remove that grant first`);
}

/** Creates `name` (already normalized) with its first key(s) in `account`; returns the stored domain. */
export async function addSendingDomain(store: DomainAdminStore, name: string, account: string, opts: NewDomainOptions): Promise<SendingDomain> {
  if (!(await store.getAccount(account))) throw new NotFoundError(`account ${account}`);
  await checkDomainOwnership(store, name, account);
  const domain = { ...await newSendingDomain(name, opts), account };
  await store.addDomain(domain);
  return domain;
}

type DomainRemoveStore = Pick<QueueStore, 'getDomain' | 'removeDomain' | 'listUsers' | 'setUserDomains'>;

/** Removes `name` (already normalized) and the account's grants within it; ERR_NOT_FOUND if there is no such domain. */
export async function removeSendingDomain(store: DomainRemoveStore, name: string): Promise<void> {
  const domain = await store.getDomain(name);
  if (!domain || !(await store.removeDomain(name))) throw new NotFoundError(`domain ${name}`);
  for (const user of await store.listUsers(ownerOf(domain))) {
    const kept = user.allowedDomains.filter((d) => !isWithinDomain(d, name));
    if (kept.length !== user.allowedDomains.length) await store.setUserDomains(user.name, { allowedDomains: kept, anyDomain: user.anyDomain });
  }
}
