/**
 * Opening stored content for delivery: devices get plaintext (encryption protects
 * storage; the gateway connection protects transport).
 */
import type { Config } from '../../shared/config';
import { ImError } from '../../shared/errors';
import type { ContentOpener } from './message';

// TEMPORARY until shared/crypto lands (issue 3): plaintext only.
export function createContentOpener(config: Config): ContentOpener {
  void config;
  return {
    open: async (content) => {
      const body = content.body;
      if (body?.$case === 'text') return body.value;
      throw new ImError('ENCRYPTION_ERROR', 'sealed content cannot be opened: no key provider is wired yet');
    },
  };
}
