/**
 * What the bundle launcher (launcher.ts) tells the code it starts about the V8 code
 * cache: whether this start used one, and whether this is the build-time run that
 * writes it (then nothing may start: no config, no connections).
 */

export const COMPILE_CACHE_FLAG = '--write-compile-cache';

export interface CompileCacheState {
  /** used: compiled from index.js.cache; rejected: V8 refused it (another node build
   *  or other V8 flags); stale: written for another index.js; none: no cache. */
  readonly status: 'used' | 'rejected' | 'stale' | 'none';
  /** This run only evaluates the bundle's modules and writes the cache. */
  readonly writing: boolean;
}

const KEY = Symbol.for('im-functions.compile-cache');

export function setCompileCacheState(state: CompileCacheState): void {
  (globalThis as Record<symbol, unknown>)[KEY] = state;
}

/** Undefined when the code was not started by the launcher (tests, the local bundles). */
export function compileCacheState(): CompileCacheState | undefined {
  return (globalThis as Record<symbol, unknown>)[KEY] as CompileCacheState | undefined;
}
