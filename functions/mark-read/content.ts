/**
 * Opens stored message content for its owner: the `content` columns hold the
 * `im.events.v1.Content` protobuf, plaintext `text` or envelope-encrypted `sealed`
 * (shared/crypto, bound to the msg_id). A row that cannot be opened — undecodable
 * bytes, no key configured, a key or context that does not match — yields
 * `content: null` with `content_error: ENCRYPTION_ERROR` instead of failing the whole
 * page or export.
 */
import type { ContentCrypto } from '../../shared/crypto';
import { Content } from '../../shared/gen/im/events/v1/events';

export type OpenedContent =
  | { readonly content: string; readonly contentError?: undefined }
  | { readonly content: null; readonly contentError: 'ENCRYPTION_ERROR' };

const FAILED: OpenedContent = { content: null, contentError: 'ENCRYPTION_ERROR' };

export class ContentReader {
  constructor(private readonly crypto: Pick<ContentCrypto, 'openContent'>) {}

  async open(stored: Buffer, msgId: string): Promise<OpenedContent> {
    let decoded: Content;
    try {
      decoded = Content.decode(stored);
    } catch {
      return FAILED;
    }
    if (decoded.body === undefined) return FAILED;
    try {
      return { content: await this.crypto.openContent(decoded, msgId) };
    } catch {
      return FAILED;
    }
  }
}
