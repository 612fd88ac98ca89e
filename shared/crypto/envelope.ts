/**
 * Envelope encryption of one message: AES-256-GCM under a data key (DEK) that is
 * reused for many messages until DEK_CACHE_TTL passes, each message with its own
 * random 96-bit nonce; the DEK travels wrapped by the key provider. The associated
 * data binds the algorithm, key id, key version, wrapped key and the caller's context
 * (e.g. the msg_id), so changing any byte of a Sealed, or moving it to another
 * message, fails authentication with ENCRYPTION_ERROR.
 *
 * Opening caches unwrapped DEKs for the same TTL (a KMS round trip per message would
 * dominate), keyed by the wrapped key itself.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ImError, isImError } from '../errors';
import type { Sealed } from '../gen/im/events/v1/events';
import type { KeyProvider, WrappedKey } from './key-provider';

export const SEALED_ALG = 'AES-256-GCM';
const NONCE = 12;
const TAG = 16;
/**
 * Random 96-bit nonces stay collision-safe far beyond this (NIST SP 800-38D allows
 * 2^32 per key); a busy process rolls its DEK here even within the TTL.
 */
const MAX_MESSAGES_PER_DEK = 1 << 24;
const AAD_MAGIC = Buffer.from('im-functions/sealed/v1');

interface DataKey {
  readonly key: Buffer;
  readonly wrapped: WrappedKey;
  /** The associated-data prefix every message under this DEK shares. */
  readonly header: Buffer;
  readonly expiresAt: number;
  uses: number;
}

export interface EnvelopeOptions {
  readonly provider: KeyProvider;
  /** DEK_CACHE_TTL: how long one DEK seals new messages (and unwrapped DEKs are kept). */
  readonly dekTtlMs: number;
  readonly now?: () => number;
  /** Unwrapped DEKs kept for opening. */
  readonly openCacheSize?: number;
}

export class EnvelopeCipher {
  readonly #provider: KeyProvider;
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #openCacheSize: number;
  #current: DataKey | undefined;
  #pending: Promise<DataKey> | undefined;
  readonly #opened = new Map<string, { key: Buffer; header: Buffer; expiresAt: number }>();
  /** DEKs generated (and wrapped) so far: for tests and /stats. */
  dataKeysCreated = 0;

  constructor(options: EnvelopeOptions) {
    this.#provider = options.provider;
    this.#ttl = options.dekTtlMs;
    this.#now = options.now ?? Date.now;
    this.#openCacheSize = options.openCacheSize ?? 1024;
  }

  async seal(plaintext: Uint8Array, aad: Uint8Array = Buffer.alloc(0)): Promise<Sealed> {
    const dek = await this.#dataKey();
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', dek.key, nonce);
    cipher.setAAD(Buffer.concat([dek.header, lengthPrefixed(aad)]));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return {
      alg: SEALED_ALG,
      keyId: dek.wrapped.keyId,
      keyVersion: dek.wrapped.keyVersion,
      wrappedKey: asBuffer(dek.wrapped.wrapped),
      nonce,
      ciphertext,
    };
  }

  async open(sealed: Sealed, aad: Uint8Array = Buffer.alloc(0)): Promise<Buffer> {
    if (sealed.alg !== SEALED_ALG) {
      throw new ImError('ENCRYPTION_ERROR', 'unsupported sealing algorithm', { details: { alg: sealed.alg } });
    }
    if (sealed.nonce.length !== NONCE || sealed.ciphertext.length < TAG) {
      throw new ImError('ENCRYPTION_ERROR', 'sealed content is malformed');
    }
    const wrapped: WrappedKey = { keyId: sealed.keyId, keyVersion: sealed.keyVersion, wrapped: sealed.wrappedKey };
    const dek = await this.#unwrap(wrapped);
    const ct = asBuffer(sealed.ciphertext);
    try {
      const decipher = createDecipheriv('aes-256-gcm', dek.key, sealed.nonce);
      decipher.setAAD(Buffer.concat([dek.header, lengthPrefixed(aad)]));
      decipher.setAuthTag(ct.subarray(ct.length - TAG));
      return Buffer.concat([decipher.update(ct.subarray(0, ct.length - TAG)), decipher.final()]);
    } catch (err) {
      throw new ImError('ENCRYPTION_ERROR', 'sealed content failed authentication', { cause: err });
    }
  }

  async #dataKey(): Promise<DataKey> {
    const cur = this.#current;
    if (cur !== undefined && this.#now() < cur.expiresAt && cur.uses < MAX_MESSAGES_PER_DEK) {
      cur.uses++;
      return cur;
    }
    // One wrap in flight at a time: concurrent sealers share the new DEK.
    this.#pending ??= this.#newDataKey().finally(() => {
      this.#pending = undefined;
    });
    const dek = await this.#pending;
    dek.uses++;
    return dek;
  }

  async #newDataKey(): Promise<DataKey> {
    const key = randomBytes(32);
    let wrapped: WrappedKey;
    try {
      wrapped = await this.#provider.wrap(key);
    } catch (err) {
      throw isImError(err) ? err : new ImError('ENCRYPTION_ERROR', 'could not wrap a data key', { cause: err });
    }
    const dek: DataKey = { key, wrapped, header: header(wrapped), expiresAt: this.#now() + this.#ttl, uses: 0 };
    this.#current = dek;
    this.dataKeysCreated++;
    return dek;
  }

  async #unwrap(wrapped: WrappedKey): Promise<{ key: Buffer; header: Buffer }> {
    const id = `${wrapped.keyId}\n${wrapped.keyVersion}\n${asBuffer(wrapped.wrapped).toString('latin1')}`;
    const now = this.#now();
    const hit = this.#opened.get(id);
    if (hit !== undefined && now < hit.expiresAt) return hit;
    let key: Buffer;
    try {
      key = asBuffer(await this.#provider.unwrap(wrapped));
    } catch (err) {
      throw isImError(err) ? err : new ImError('ENCRYPTION_ERROR', 'could not unwrap the data key', { cause: err });
    }
    if (key.length !== 32) throw new ImError('ENCRYPTION_ERROR', 'unwrapped data key has the wrong length');
    const entry = { key, header: header(wrapped), expiresAt: now + this.#ttl };
    if (this.#ttl > 0) {
      this.#opened.delete(id);
      if (this.#opened.size >= this.#openCacheSize) this.#opened.delete(this.#opened.keys().next().value as string);
      this.#opened.set(id, entry);
    }
    return entry;
  }
}

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function lengthPrefixed(bytes: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** Associated data shared by every message sealed under one wrapped DEK. */
function header(w: WrappedKey): Buffer {
  const version = Buffer.alloc(4);
  version.writeUInt32BE(w.keyVersion >>> 0);
  return Buffer.concat([
    lengthPrefixed(AAD_MAGIC),
    lengthPrefixed(Buffer.from(SEALED_ALG)),
    lengthPrefixed(Buffer.from(w.keyId)),
    version,
    lengthPrefixed(w.wrapped),
  ]);
}
