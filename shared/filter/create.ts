/**
 * Builds the filter a function uses from configuration: reads the word list (start-up
 * fails on an explicit path that is missing or a file that is not a word list), keeps
 * it reloaded, and feeds the metrics. With FILTER_ENABLED=false the filter has no words
 * and no file is read.
 */
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import { SensitiveWordFilter, type FilterMetrics } from './filter';
import { WordListSource, type ReloadOutcome } from './source';

export interface WordListMetrics {
  readonly filterWordlistReloads: { inc(labels: { outcome: ReloadOutcome }): void };
  readonly filterWordlistWords: { set(value: number): void };
}

export interface ManagedFilter {
  readonly filter: SensitiveWordFilter;
  /** Stops watching the file. */
  close(): void;
}

export async function createSensitiveWordFilter(
  config: Config['filter'],
  deps: { logger: Logger; metrics?: FilterMetrics & WordListMetrics; debounceMs?: number },
): Promise<ManagedFilter> {
  const { logger, metrics } = deps;
  const filter = new SensitiveWordFilter({ action: config.action, logger, ...(metrics ? { metrics } : {}) });
  if (!config.enabled) return { filter, close: () => undefined };
  const source = new WordListSource({
    path: config.wordlistPath,
    explicit: config.wordlistPathExplicit,
    reloadIntervalMs: config.reloadIntervalMs,
    ...(deps.debounceMs !== undefined ? { debounceMs: deps.debounceMs } : {}),
    logger,
    onMatcher: (matcher) => {
      filter.setMatcher(matcher);
      metrics?.filterWordlistWords.set(matcher.size);
    },
    onReload: (outcome) => metrics?.filterWordlistReloads.inc({ outcome }),
  });
  await source.start();
  return { filter, close: () => source.stop() };
}
