export { SensitiveWordFilter, type FilterAction, type FilterMetrics, type FilterOutcome, type SensitiveWordFilterOptions } from './filter';
export { createSensitiveWordFilter, type ManagedFilter, type WordListMetrics } from './create';
export { WordMatcher, type WordMatch, type ScanResult, type MaskResult } from './matcher';
export { WordListSource, type WordListSourceOptions, type ReloadOutcome } from './source';
export { parseWordList, readWordList, WordListError } from './wordlist';
export { canonical } from './unicode';
export { createContentFilter, type ContentFilter } from './content-filter';
