/**
 * Content sealing and opening as the routers and the fanout consume them: built once
 * at start from ENCRYPTION_* (a missing key stops the function there, not per message),
 * with the msg_id as the sealing context so every reader opens what any writer sealed,
 * and every failure reported as ENCRYPTION_ERROR.
 */
import type { Config } from '../config';
import { asImError } from '../errors';
import type { Content } from '../gen/im/events/v1/events';
import { createContentCrypto } from './content';

/** Seals content for storage (ENCRYPTION_ENABLED), or wraps it as plaintext. */
export interface ContentSealer {
  seal(text: string, msgId: string): Promise<Content>;
}

/** The text of stored content, sealed or not. */
export interface ContentOpener {
  open(content: Content, msgId: string): Promise<string>;
}

const asEncryptionError = (err: unknown): never => {
  throw asImError(err, 'ENCRYPTION_ERROR');
};

export async function createContentSealer(config: Config['encryption']): Promise<ContentSealer> {
  const crypto = await createContentCrypto(config);
  return { seal: (text, msgId) => crypto.sealContent(text, msgId).catch(asEncryptionError) };
}

export async function createContentOpener(config: Config['encryption']): Promise<ContentOpener> {
  const crypto = await createContentCrypto(config);
  return { open: (content, msgId) => crypto.openContent(content, msgId).catch(asEncryptionError) };
}
