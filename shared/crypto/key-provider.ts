/**
 * The key-encryption-key side of envelope encryption, as an interface so a KMS can
 * plug in: `wrap` seals a fresh data key under the current key (and says which key
 * and version), `unwrap` opens one sealed earlier under any key version still known.
 */

export interface WrappedKey {
  /** Which key-encryption key (for the local provider: `<KMS_KEY_ID>:v<master version>`). */
  readonly keyId: string;
  /** Which version of it (for the local provider: the day number its period began). */
  readonly keyVersion: number;
  /** The data key sealed under that key; opaque to everything but the provider. */
  readonly wrapped: Uint8Array;
}

export interface KeyProvider {
  /** Wraps a data key under the current key-encryption key. */
  wrap(dek: Uint8Array): Promise<WrappedKey>;
  /**
   * Unwraps a data key. Throws ImError ENCRYPTION_ERROR for an unknown key id or
   * version, or a wrapped key that fails authentication.
   */
  unwrap(key: WrappedKey): Promise<Uint8Array>;
}
