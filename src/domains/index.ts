// Public API of sending domains: DKIM keys and signing, the DNS records to publish and their
// check, key rotation, and the user ↔ domain authorisation policy. Used by ingress (signing,
// authorisation), main.ts (rotation) and the CLI; it depends only on store/store types and the
// resolver it is given.
export { authorisedDomain, isDomainAllowed, type DomainUser } from './authorisation.js';
export { bounceAddress, currentBounceSecret, isBounceAddress, parseBounceAddress, type ParsedBounceAddress } from './bounce-address.js';
export { signMessage, SIGNED_HEADERS, DkimSignError, type SigningKey, type SignOptions } from './dkim-sign.js';
export {
  dkimRecordValue, generateDkimKey, importDkimKey, readDkimKeyFile, KEY_CHOICES, DkimKeyError, type KeyChoice, type KeyMaterial,
} from './dkim-keys.js';
export { checkRecords, hasProblems, type CheckStatus, type RecordCheck, type RecordResolver } from './domain-check.js';
export { normalizeDomain, isValidSelector, domainOfAddress } from './domain-name.js';
export { expectedRecords, formatZoneLine, spfMechanisms, type ExpectedRecord, type RecordContext } from './dns-records.js';
export { parseHeaderFrom, authorDomain, type HeaderFrom } from './header-from.js';
export { promoteRotations, rotateKey, type Promotion } from './key-rotation.js';
export { MessageSigner, type MessageSignerDeps, type SignOutcome } from './message-signer.js';
export { newSendingDomain, recordsFor, type NewDomainOptions } from './sending-domain.js';
