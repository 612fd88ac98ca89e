/**
 * A key provider for running without a KMS. Key hierarchy:
 *
 *   master key vN (ENCRYPTION_KEY or a line of ENCRYPTION_KEY_FILE)
 *     └─ KEK for (keyId, keyVersion) = HKDF-SHA256(master, salt, "<keyId>/<keyVersion>")
 *          └─ per-DEK wrap: AES-256-GCM, random nonce, AAD = keyId and keyVersion
 *
 * keyId is `<KMS_KEY_ID>:v<N>` (which master), keyVersion the epoch-day number on which
 * the current KEY_ROTATION_DAYS period began. Rotation is therefore automatic and the
 * same on every pod (derived from the clock, no shared state), and every earlier
 * version stays derivable, so old messages stay readable. keyVersion only grows with
 * time even if KEY_ROTATION_DAYS changes; a version from the future (beyond a day of
 * clock skew) is refused as unknown.
 *
 * Rotating the master itself is adding a `vN+1:` line to the key file: new data keys
 * are wrapped under the highest version; a pod that meets a version it does not know
 * re-reads the file (at most once a second) before refusing, so a mounted secret
 * updated in place works during a rolling restart.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ImError } from '../errors';
import type { KeyProvider, WrappedKey } from './key-provider';
import type { MasterKey } from './master-keys';

const DAY_MS = 86_400_000;
const NONCE = 12;
const TAG = 16;
const HKDF_SALT = Buffer.from('im-functions/local-kek/v1');
const RELOAD_MIN_INTERVAL_MS = 1000;

export interface LocalKeyProviderOptions {
  /** KMS_KEY_ID: the name the master versions are qualified with. */
  readonly keyName: string;
  readonly masters: readonly MasterKey[];
  readonly rotationDays: number;
  readonly now?: () => number;
  /** Re-reads the masters (the key file) when a version is unknown. */
  readonly reload?: () => Promise<readonly MasterKey[]>;
}

export class LocalKeyProvider implements KeyProvider {
  readonly #name: string;
  #masters: Map<number, Buffer>;
  #active: number;
  readonly #rotationDays: number;
  readonly #now: () => number;
  readonly #reload: (() => Promise<readonly MasterKey[]>) | undefined;
  #lastReload = -Infinity;
  readonly #keks = new Map<string, Buffer>();

  constructor(options: LocalKeyProviderOptions) {
    if (options.masters.length === 0) throw new Error('LocalKeyProvider needs at least one master key');
    this.#name = options.keyName;
    this.#masters = new Map(options.masters.map((m) => [m.version, m.key]));
    this.#active = Math.max(...this.#masters.keys());
    this.#rotationDays = options.rotationDays;
    this.#now = options.now ?? Date.now;
    this.#reload = options.reload;
  }

  /** The key id and version new data keys are wrapped under right now. */
  current(): { keyId: string; keyVersion: number } {
    const day = Math.floor(this.#now() / DAY_MS);
    return { keyId: `${this.#name}:v${this.#active}`, keyVersion: day - (day % this.#rotationDays) };
  }

  async wrap(dek: Uint8Array): Promise<WrappedKey> {
    const { keyId, keyVersion } = this.current();
    const kek = this.#kek(keyId, keyVersion, this.#active);
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', kek, nonce);
    cipher.setAAD(wrapAad(keyId, keyVersion));
    const wrapped = Buffer.concat([nonce, cipher.update(dek), cipher.final(), cipher.getAuthTag()]);
    return { keyId, keyVersion, wrapped };
  }

  async unwrap(key: WrappedKey): Promise<Uint8Array> {
    const master = await this.#masterOf(key);
    if (key.wrapped.length <= NONCE + TAG) throw new ImError('ENCRYPTION_ERROR', 'wrapped data key is malformed');
    const w = Buffer.from(key.wrapped.buffer, key.wrapped.byteOffset, key.wrapped.byteLength);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#kek(key.keyId, key.keyVersion, master), w.subarray(0, NONCE));
      decipher.setAAD(wrapAad(key.keyId, key.keyVersion));
      decipher.setAuthTag(w.subarray(w.length - TAG));
      return Buffer.concat([decipher.update(w.subarray(NONCE, w.length - TAG)), decipher.final()]);
    } catch (err) {
      throw new ImError('ENCRYPTION_ERROR', 'wrapped data key failed authentication', { cause: err });
    }
  }

  async #masterOf(key: WrappedKey): Promise<number> {
    const m = /^(.*):v(\d+)$/.exec(key.keyId);
    if (m === null || m[1] !== this.#name) {
      throw new ImError('ENCRYPTION_ERROR', 'unknown key id', { details: { keyId: key.keyId } });
    }
    const today = Math.floor(this.#now() / DAY_MS);
    if (!Number.isSafeInteger(key.keyVersion) || key.keyVersion < 0 || key.keyVersion > today + 1) {
      throw new ImError('ENCRYPTION_ERROR', 'unknown key version', { details: { keyId: key.keyId, keyVersion: key.keyVersion } });
    }
    const version = Number(m[2]);
    if (!this.#masters.has(version)) await this.#tryReload();
    if (!this.#masters.has(version)) {
      throw new ImError('ENCRYPTION_ERROR', 'unknown key version', { details: { keyId: key.keyId, keyVersion: key.keyVersion } });
    }
    return version;
  }

  async #tryReload(): Promise<void> {
    const now = this.#now();
    if (this.#reload === undefined || now - this.#lastReload < RELOAD_MIN_INTERVAL_MS) return;
    this.#lastReload = now;
    try {
      const masters = await this.#reload();
      if (masters.length === 0) return;
      // Versions only ever get added here: a key vanishing from the file must not
      // make stored messages unreadable in a running process.
      for (const m of masters) if (!this.#masters.has(m.version)) this.#masters.set(m.version, m.key);
    } catch {
      // Keep what we have; the caller reports the unknown version.
    }
  }

  #kek(keyId: string, keyVersion: number, master: number): Buffer {
    const label = `${keyId}/${keyVersion}`;
    let kek = this.#keks.get(label);
    if (kek === undefined) {
      kek = Buffer.from(hkdfSync('sha256', this.#masters.get(master) as Buffer, HKDF_SALT, label, 32));
      if (this.#keks.size >= 64) this.#keks.clear();
      this.#keks.set(label, kek);
    }
    return kek;
  }
}

function wrapAad(keyId: string, keyVersion: number): Buffer {
  return Buffer.from(`im-functions/dek-wrap/v1\n${keyId}\n${keyVersion}`);
}
