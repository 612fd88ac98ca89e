/**
 * The sensitive-word filter as the routers use it: one configured action applied to
 * a message's text.
 *   block   → ImError CONTENT_BLOCKED (the message is refused, nothing stored)
 *   replace → every grapheme cluster a word touches becomes `*`
 *   audit   → the text passes unchanged; matches are logged and counted
 * The compiled list is swapped in whole by the word-list source on reload, so a
 * message is always filtered by exactly one version of the list.
 */
import type { FILTER_ACTIONS } from '../config/config';
import { ImError } from '../errors';
import type { Logger } from '../observability/logger';
import { WordMatcher, type WordMatch } from './matcher';

export type FilterAction = (typeof FILTER_ACTIONS)[number];

/** The metrics the filter feeds (a subset of shared/observability/metrics). */
export interface FilterMetrics {
  readonly filterMatches: { inc(labels: { action: FilterAction }, value?: number): void };
}

export interface FilterOutcome {
  /** The text to deliver: masked for `replace`, unchanged otherwise. */
  readonly text: string;
  readonly action: FilterAction;
  /** True when `block` applies: the message must be refused. */
  readonly blocked: boolean;
  /** Occurrences found (for `block`, 1 at most: it stops at the first). */
  readonly count: number;
  readonly matches: readonly WordMatch[];
}

export interface SensitiveWordFilterOptions {
  readonly action: FilterAction;
  readonly matcher?: WordMatcher;
  readonly logger?: Logger;
  readonly metrics?: FilterMetrics;
  /** Matches described per message (all are counted). */
  readonly reportLimit?: number;
}

export class SensitiveWordFilter {
  readonly action: FilterAction;
  #matcher: WordMatcher;
  readonly #logger: Logger | undefined;
  readonly #metrics: FilterMetrics | undefined;
  readonly #limit: number;

  constructor(options: SensitiveWordFilterOptions) {
    this.action = options.action;
    this.#matcher = options.matcher ?? WordMatcher.build([]);
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#limit = options.reportLimit ?? 16;
  }

  /** Replaces the compiled list (one reference assignment: atomic for every caller). */
  setMatcher(matcher: WordMatcher): void {
    this.#matcher = matcher;
  }

  /** Distinct words in the list in use. */
  get size(): number {
    return this.#matcher.size;
  }

  /** Applies the action and reports; never throws. */
  apply(text: string): FilterOutcome {
    const matcher = this.#matcher;
    const action = this.action;
    if (action === 'block') {
      const hit = matcher.first(text);
      return { text, action, blocked: hit !== undefined, count: hit ? 1 : 0, matches: hit ? [hit] : [] };
    }
    if (action === 'replace') {
      const r = matcher.mask(text, this.#limit);
      return { text: r.text, action, blocked: false, count: r.count, matches: r.matches };
    }
    const r = matcher.scan(text, this.#limit);
    return { text, action, blocked: false, count: r.count, matches: r.matches };
  }

  /**
   * What a router calls: the text to send on, or ImError CONTENT_BLOCKED. Matches are
   * counted in metrics and, for `audit` and `block`, logged with the words (never the
   * message text). `context` (e.g. msg_id, sender) goes into the log line.
   */
  enforce(text: string, context: Record<string, unknown> = {}): string {
    const outcome = this.apply(text);
    if (outcome.count === 0) return outcome.text;
    this.#metrics?.filterMatches.inc({ action: outcome.action });
    const words = [...new Set(outcome.matches.map((m) => m.word))];
    if (outcome.blocked) {
      this.#logger?.info({ ...context, filter: 'block', words }, 'message blocked by sensitive-word filter');
      throw new ImError('CONTENT_BLOCKED', 'message contains blocked content', { details: { reason: 'sensitive_word' } });
    }
    if (outcome.action === 'audit') {
      this.#logger?.warn({ ...context, filter: 'audit', words, count: outcome.count }, 'sensitive words found (audit only)');
    }
    return outcome.text;
  }
}
