/**
 * The content steps of route-group as ports: the sensitive-word filter (shared/filter)
 * and the storage sealer.
 */
import type { Config } from '../../shared/config';
import { ImError } from '../../shared/errors';
import { createSensitiveWordFilter } from '../../shared/filter';
import type { Content } from '../../shared/gen/im/events/v1/events';
import type { Logger } from '../../shared/observability/logger';
import type { Metrics } from '../../shared/observability/metrics';
import type { ContentFilter, ContentSealer } from './ports';

export async function createContentFilter(
  config: Config,
  logger: Logger,
  metrics: Metrics,
): Promise<ContentFilter & { close(): void }> {
  const managed = await createSensitiveWordFilter(config.filter, { logger, metrics });
  return { apply: (text) => managed.filter.enforce(text), close: () => managed.close() };
}

// TEMPORARY until shared/crypto lands (issue 3): plaintext only.
export function createContentSealer(config: Config): ContentSealer {
  if (config.encryption.enabled) throw new ImError('ENCRYPTION_ERROR', 'encryption is not wired yet');
  return { seal: async (text): Promise<Content> => ({ body: { $case: 'text', value: text } }) };
}
