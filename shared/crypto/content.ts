/**
 * Message content as the functions store and forward it (`Content` of
 * im.events.v1: `text` or `sealed`). With ENCRYPTION_ENABLED, `sealContent` seals the
 * text bound to its context (pass the msg_id); `openContent` opens sealed content
 * with the same context and passes plain `text` through, so messages written before
 * encryption was switched on (or after it was switched off) stay readable. A key
 * configured while encryption is off still opens what was sealed earlier.
 */
import type { Config } from '../config';
import { ConfigError, ImError } from '../errors';
import type { Content } from '../gen/im/events/v1/events';
import { EnvelopeCipher } from './envelope';
import type { KeyProvider } from './key-provider';
import { LocalKeyProvider } from './local-key-provider';
import { decodeMasterKey, readKeyFile } from './master-keys';

export type Context = string | Uint8Array;

export interface ContentCrypto {
  /** True when new content is sealed. */
  readonly enabled: boolean;
  sealContent(text: string, context?: Context): Promise<Content>;
  /** The text of `content`; ENCRYPTION_ERROR if sealed content cannot be opened. */
  openContent(content: Content | undefined, context?: Context): Promise<string>;
}

const bytes = (c: Context | undefined): Uint8Array => (c === undefined ? Buffer.alloc(0) : typeof c === 'string' ? Buffer.from(c) : c);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class EnvelopeContentCrypto implements ContentCrypto {
  readonly enabled: boolean;
  readonly #cipher: EnvelopeCipher | undefined;

  /** `cipher` undefined: no key at all (plaintext only). */
  constructor(cipher: EnvelopeCipher | undefined, enabled: boolean) {
    if (enabled && cipher === undefined) throw new Error('encryption enabled without a cipher');
    this.#cipher = cipher;
    this.enabled = enabled;
  }

  async sealContent(text: string, context?: Context): Promise<Content> {
    if (!this.enabled || this.#cipher === undefined) return { body: { $case: 'text', value: text } };
    return { body: { $case: 'sealed', value: await this.#cipher.seal(Buffer.from(text, 'utf8'), bytes(context)) } };
  }

  async openContent(content: Content | undefined, context?: Context): Promise<string> {
    const body = content?.body;
    if (body === undefined) return '';
    if (body.$case === 'text') return body.value;
    if (this.#cipher === undefined) {
      throw new ImError('ENCRYPTION_ERROR', 'content is sealed but no encryption key is configured');
    }
    const plain = await this.#cipher.open(body.value, bytes(context));
    try {
      return utf8.decode(plain);
    } catch (err) {
      throw new ImError('ENCRYPTION_ERROR', 'sealed content is not UTF-8 text', { cause: err });
    }
  }
}

export interface ContentCryptoOptions {
  /** A KMS-backed provider; without one the local provider is built from config. */
  readonly provider?: KeyProvider;
  readonly now?: () => number;
}

/** Builds the content crypto of a function; throws ConfigError naming the variable. */
export async function createContentCrypto(config: Config['encryption'], options: ContentCryptoOptions = {}): Promise<ContentCrypto> {
  const provider = options.provider ?? (await localProvider(config, options.now));
  if (provider === undefined) {
    if (config.enabled) {
      throw new ConfigError('ENCRYPTION_KEY', 'is required when ENCRYPTION_ENABLED=true (or set ENCRYPTION_KEY_FILE)');
    }
    return new EnvelopeContentCrypto(undefined, false);
  }
  const cipher = new EnvelopeCipher({ provider, dekTtlMs: config.dekCacheTtlMs, ...(options.now ? { now: options.now } : {}) });
  return new EnvelopeContentCrypto(cipher, config.enabled);
}

async function localProvider(config: Config['encryption'], now?: () => number): Promise<LocalKeyProvider | undefined> {
  const { localKey, localKeyFile } = config;
  if (localKey !== '' && localKeyFile !== '') {
    throw new ConfigError('ENCRYPTION_KEY_FILE', 'set either ENCRYPTION_KEY or ENCRYPTION_KEY_FILE, not both');
  }
  const base = { keyName: config.kmsKeyId, rotationDays: config.keyRotationDays, ...(now ? { now } : {}) };
  if (localKey !== '') {
    return new LocalKeyProvider({ ...base, masters: [{ version: 1, key: decodeMasterKey(localKey, 'ENCRYPTION_KEY') }] });
  }
  if (localKeyFile !== '') {
    return new LocalKeyProvider({ ...base, masters: await readKeyFile(localKeyFile), reload: () => readKeyFile(localKeyFile) });
  }
  return undefined;
}
