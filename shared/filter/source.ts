/**
 * Keeps a compiled word list in step with its file. The first load decides start-up
 * (a path set explicitly must exist; the seeds' default path may be absent on a
 * developer machine). Afterwards the file is polled (ino, size, mtime, ctime, which
 * also catches the symlink swap of a Kubernetes ConfigMap) and watched through its
 * directory for a quicker hint; a change is loaded once it has been stable for
 * `debounceMs`, compiled off to the side and handed over in one assignment. A reload
 * that fails keeps the previous list and logs once per bad version of the file.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { ConfigError } from '../errors';
import type { Logger } from '../observability/logger';
import { WordMatcher } from './matcher';
import { WordListError, readWordList } from './wordlist';

export type ReloadOutcome = 'loaded' | 'failed' | 'missing';

export interface WordListSourceOptions {
  readonly path: string;
  /** The path was configured explicitly: missing at start-up is an error. */
  readonly explicit: boolean;
  /** Poll period; 0 disables reloading. */
  readonly reloadIntervalMs: number;
  /** How long a changed file must stay unchanged before it is read. */
  readonly debounceMs?: number;
  readonly logger: Logger;
  /** Called with every newly compiled list (including the first). */
  readonly onMatcher: (matcher: WordMatcher) => void;
  readonly onReload?: (outcome: ReloadOutcome) => void;
}

const MISSING = 'missing';

async function signature(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch {
    return MISSING;
  }
}

export class WordListSource {
  readonly #o: WordListSourceOptions;
  #current = '';
  /** A version already tried (loaded, failed or reported missing): not retried. */
  #settled = '';
  #pending = '';
  #pendingSince = 0;
  #busy = false;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #watcher: FSWatcher | undefined;
  #stopped = false;

  constructor(options: WordListSourceOptions) {
    this.#o = options;
  }

  /** Loads the list for start-up and begins watching; throws ConfigError on a bad file. */
  async start(): Promise<WordMatcher> {
    const { path, explicit, logger } = this.#o;
    const sig = await signature(path);
    let matcher: WordMatcher;
    try {
      matcher = WordMatcher.build(await readWordList(path));
    } catch (err) {
      if (!(err instanceof WordListError)) throw err;
      if (!err.missing || explicit) throw new ConfigError('FILTER_WORDLIST_PATH', err.message);
      logger.warn({ path }, 'sensitive-word list not found; filtering with an empty list until it appears');
      matcher = WordMatcher.build([]);
    }
    this.#current = this.#settled = sig;
    if (sig !== MISSING) logger.info({ path, words: matcher.size }, 'sensitive-word list loaded');
    this.#o.onMatcher(matcher);
    this.#watch();
    return matcher;
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
    this.#watcher?.close();
  }

  /** Checks the file now (what the poll and the watcher call). */
  async check(): Promise<void> {
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    try {
      const sig = await signature(this.#o.path);
      if (sig === this.#settled) {
        this.#pending = '';
        return;
      }
      const debounceMs = this.#o.debounceMs ?? 250;
      if (sig !== this.#pending || Date.now() - this.#pendingSince < debounceMs) {
        // Changed: wait until it holds still, so a half-written file is never read.
        if (sig !== this.#pending) {
          this.#pending = sig;
          this.#pendingSince = Date.now();
        }
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => void this.check(), debounceMs);
        this.#debounce.unref();
        return;
      }
      this.#pending = '';
      await this.#reload(sig);
    } finally {
      this.#busy = false;
    }
  }

  async #reload(sig: string): Promise<void> {
    const { path, logger } = this.#o;
    this.#settled = sig;
    if (sig === MISSING) {
      logger.error({ path }, 'sensitive-word list disappeared; keeping the list in use');
      this.#o.onReload?.('missing');
      return;
    }
    try {
      const words = await readWordList(path);
      const started = Date.now();
      const matcher = WordMatcher.build(words);
      if (this.#stopped) return;
      this.#current = sig;
      this.#o.onMatcher(matcher);
      logger.info({ path, words: matcher.size, compileMs: Date.now() - started }, 'sensitive-word list reloaded');
      this.#o.onReload?.('loaded');
    } catch (err) {
      logger.error({ path, err: err instanceof Error ? err.message : String(err) }, 'sensitive-word list reload failed; keeping the list in use');
      this.#o.onReload?.('failed');
    }
  }

  /** The file version compiled into the list in use ('' before start, 'missing' if none). */
  get version(): string {
    return this.#current;
  }

  #watch(): void {
    const { path, reloadIntervalMs, logger } = this.#o;
    if (reloadIntervalMs <= 0) return;
    this.#poll = setInterval(() => void this.check(), reloadIntervalMs);
    this.#poll.unref();
    try {
      const name = basename(path);
      // The directory, not the file: editors and ConfigMaps replace files by rename.
      this.#watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file === null || file === name || file.startsWith('..')) void this.check();
      });
      this.#watcher.on('error', (err) => logger.debug({ err: err.message }, 'word list directory watch failed; polling only'));
    } catch {
      // No directory (default path absent): polling alone notices the file appearing.
    }
  }
}
