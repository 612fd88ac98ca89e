/**
 * The content steps of route-private as ports: the sensitive-word filter
 * (shared/filter, FILTER_ACTION) and the storage sealer (shared/crypto,
 * ENCRYPTION_ENABLED; the msg_id is the sealing context, as every reader opens it).
 */
import type { Config } from '../../shared/config';
import { createContentCrypto } from '../../shared/crypto';
import { createSensitiveWordFilter } from '../../shared/filter';
import type { Logger } from '../../shared/observability/logger';
import type { Metrics } from '../../shared/observability/metrics';
import { asImError } from '../../shared/errors';
import type { ContentFilter, ContentSealer } from './ports';

export async function createContentFilter(
  config: Config,
  logger: Logger,
  metrics: Metrics,
): Promise<ContentFilter & { close(): void }> {
  const managed = await createSensitiveWordFilter(config.filter, { logger, metrics });
  return { apply: (text) => managed.filter.enforce(text), close: () => managed.close() };
}

export async function createContentSealer(config: Config): Promise<ContentSealer> {
  const crypto = await createContentCrypto(config.encryption);
  return {
    seal: async (text, msgId) => {
      try {
        return await crypto.sealContent(text, msgId);
      } catch (err) {
        throw asImError(err, 'ENCRYPTION_ERROR');
      }
    },
  };
}
