/**
 * The sensitive-word filter as the routers consume it: `apply` enforces FILTER_ACTION
 * on a message's text (block throws CONTENT_BLOCKED, replace masks, audit passes) with
 * the word list reloaded in the background until `close`.
 */
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { createSensitiveWordFilter } from './create';

/** Returns the text to deliver (masked under `replace`); throws CONTENT_BLOCKED under `block`. */
export interface ContentFilter {
  apply(text: string): string;
}

export async function createContentFilter(
  config: Config['filter'],
  deps: { logger: Logger; metrics: Metrics },
): Promise<ContentFilter & { close(): void }> {
  const managed = await createSensitiveWordFilter(config, deps);
  return { apply: (text) => managed.filter.enforce(text), close: () => managed.close() };
}
