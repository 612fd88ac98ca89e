/**
 * Opens stored message content for its owner: the `content` columns hold the
 * `im.events.v1.Content` protobuf, plaintext `text` or envelope-encrypted `sealed`.
 * Sealed content is opened by the injected opener (the envelope cipher of
 * shared/crypto); a row that cannot be opened yields `content: null` with
 * `content_error: ENCRYPTION_ERROR` instead of failing the whole page or export.
 */
import { Content, type Sealed } from '../../shared/gen/im/events/v1/events';

/** Decrypts a sealed body to its plaintext; throws when it cannot. */
export type SealedOpener = (sealed: Sealed) => Promise<string>;

export type OpenedContent =
  | { readonly content: string; readonly contentError?: undefined }
  | { readonly content: null; readonly contentError: 'ENCRYPTION_ERROR' };

const FAILED: OpenedContent = { content: null, contentError: 'ENCRYPTION_ERROR' };

export class ContentReader {
  /** Without an opener (no key configured) sealed content is reported, not opened. */
  constructor(private readonly openSealed?: SealedOpener) {}

  async open(stored: Buffer): Promise<OpenedContent> {
    let decoded: Content;
    try {
      decoded = Content.decode(stored);
    } catch {
      return FAILED;
    }
    const body = decoded.body;
    if (body?.$case === 'text') return { content: body.value };
    if (body?.$case === 'sealed' && this.openSealed) {
      try {
        return { content: await this.openSealed(body.value) };
      } catch {
        return FAILED;
      }
    }
    return FAILED;
  }
}
