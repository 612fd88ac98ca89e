export type { KeyProvider, WrappedKey } from './key-provider';
export { LocalKeyProvider, type LocalKeyProviderOptions } from './local-key-provider';
export { parseKeyFile, readKeyFile, decodeMasterKey, type MasterKey } from './master-keys';
export { EnvelopeCipher, SEALED_ALG, type EnvelopeOptions } from './envelope';
export { EnvelopeContentCrypto, createContentCrypto, type ContentCrypto, type ContentCryptoOptions, type Context } from './content';
export { createContentSealer, createContentOpener, type ContentSealer, type ContentOpener } from './content-ports';
