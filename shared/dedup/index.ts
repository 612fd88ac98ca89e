/** msg_id idempotency: claims per stage and request fingerprints. */
export { MessageClaims, type ClaimResult, type CompleteResult, type MessageClaimsOptions } from './claims';
export { messageFingerprint, type FingerprintInput, type MessageTarget } from './fingerprint';
