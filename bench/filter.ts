/**
 * Benchmark of the sensitive-word filter and envelope encryption
 * (`npm run bench -- filter`, or standalone:
 *  `npx esbuild bench/filter.ts --bundle --platform=node --outfile=/tmp/filter-bench.js && node /tmp/filter-bench.js`).
 *
 * 1. Filter throughput on 10 KB messages (UTF-8 bytes; mixed ASCII words, Chinese,
 *    Japanese, emoji with modifiers and ZWJ sequences, full-width letters, a few listed
 *    words per message) with a 10,000-word list, for each action: MB/s and msgs/s.
 *    Target ≥ 50 MB/s.
 * 2. Adversarial 10 KB inputs (flags, stacked combining marks, zero-width spaces
 *    everywhere, compatibility jamo) to show the worst cases stay bounded.
 * 3. Seal/open throughput of 1 KB messages (sealContent/openContent, local key).
 * Writes bench/results/filter.json. Knobs: BENCH_SECONDS (per measurement, default 2).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { createContentCrypto } from '../shared/crypto';
import { SensitiveWordFilter, WordMatcher, type FilterAction } from '../shared/filter';
import { loadConfig } from '../shared/config';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 2);
const resultsDir = process.env['BENCH_RESULTS_DIR'] ?? join(process.cwd(), 'bench/results');
const say = (s: string) => process.stdout.write(`${s}\n`);

/** Deterministic PRNG (mulberry32) so every run filters the same texts. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(42);
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;
const LATIN = 'abcdefghijklmnopqrstuvwxyz';
/** 3,000 CJK ideographs with a skewed (roughly Zipf-like) frequency, as real text has. */
const HANZI_POOL = Array.from({ length: 3000 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 7919) % 20000)));
const HANZI = { pick: () => HANZI_POOL[Math.floor(rand() ** 2 * HANZI_POOL.length)] as string };
const KANA = [...'あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんアイウエオカキクケコサシスセソタチツテト'];
const EMOJI = ['😀', '👍', '👍🏽', '🍆', '👨‍👩‍👧', '🇯🇵', '❤️', '🔥', '😂'];
type Alphabet = readonly string[] | { pick(): string };
const word = (alphabet: Alphabet, min: number, max: number) =>
  Array.from({ length: min + Math.floor(rand() * (max - min + 1)) }, () => ('pick' in alphabet ? alphabet.pick() : pick(alphabet))).join('');

function wordList(n: number): string[] {
  const list = new Set<string>();
  while (list.size < n) {
    const r = rand();
    if (r < 0.45) list.add(word([...LATIN], 5, 9));
    else if (r < 0.8) list.add(word(HANZI, 2, 4));
    else if (r < 0.97) list.add(word(KANA, 3, 5));
    else list.add(pick(EMOJI) + pick(EMOJI));
  }
  return [...list];
}

function message(words: readonly string[], bytes: number, inject = true): string {
  let s = '';
  while (Buffer.byteLength(s) < bytes) {
    const r = rand();
    if (r < 0.4) s += `${word([...LATIN], 2, 8)} `;
    else if (r < 0.45) s += `${word([...'ＡＢＣＤＥＦＧ'], 1, 3)} `;
    else if (r < 0.75) s += word(HANZI, 3, 12);
    else if (r < 0.9) s += word(KANA, 3, 10);
    else if (r < 0.97) s += pick(EMOJI);
    else if (r < 0.973) s += inject ? pick(words).toUpperCase() : ''; // a listed word, as users write it
    else s += '，。！';
  }
  return s;
}

function adversarial(kind: string, bytes: number): string {
  const fill = (unit: string) => unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit))).slice(0, bytes / 2);
  switch (kind) {
    case 'flags':
      return fill('🇯🇵🇺🇸');
    case 'combining':
      return `a${'\u0301\u0308\u0323'.repeat(1500)}`;
    case 'zero-width':
      return fill('b\u200Ba\u200Bd\u200B ');
    case 'jamo':
      return fill('ㄱㅏㄴㅏㄷㅏ');
    default:
      return fill('badbad');
  }
}

interface Rate {
  mbPerSec: number;
  msgsPerSec: number;
  msPerMsg: number;
}

function measure(run: (text: string) => unknown, texts: readonly string[]): Rate {
  const bytes = texts.map((t) => Buffer.byteLength(t));
  for (let i = 0; i < 200; i++) run(texts[i % texts.length] as string); // warm up JIT and caches
  let n = 0;
  let total = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(SECONDS * 1e9));
  while (process.hrtime.bigint() - start < budget) {
    for (let k = 0; k < 20; k++, n++) {
      run(texts[n % texts.length] as string);
      total += bytes[n % texts.length] as number;
    }
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return { mbPerSec: round(total / 1e6 / secs), msgsPerSec: round(n / secs), msPerMsg: round((secs * 1000) / n, 4) };
}

async function measureAsync(run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 500; i++) await run();
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(SECONDS * 1e9));
  while (process.hrtime.bigint() - start < budget) {
    for (let k = 0; k < 50; k++, n++) await run();
  }
  return round(n / (Number(process.hrtime.bigint() - start) / 1e9));
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

async function main(): Promise<void> {
  const conditions = {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: round(totalmem() / 2 ** 30),
    loadavgAtStart: loadavg().map((l) => round(l, 2)),
    secondsPerMeasurement: SECONDS,
  };
  say(`filter bench: load ${conditions.loadavgAtStart.join(' ')}, ${conditions.cpus} cpus, node ${conditions.node}`);

  const words = wordList(10_000);
  const t0 = process.hrtime.bigint();
  const matcher = WordMatcher.build(words);
  const compileMs = round(Number(process.hrtime.bigint() - t0) / 1e6);
  say(`compiled ${matcher.size} words in ${compileMs} ms`);

  const texts = Array.from({ length: 64 }, () => message(words, 10_240));
  const sample = new SensitiveWordFilter({ action: 'audit', matcher }).apply(texts[0] as string);
  say(`messages: ${texts.length} × ${Buffer.byteLength(texts[0] as string)} bytes, ${[...(texts[0] as string)].length} code points, ~${sample.count} matches each`);

  const actions: Record<string, Rate> = {};
  for (const action of ['block', 'replace', 'audit'] as FilterAction[]) {
    const filter = new SensitiveWordFilter({ action, matcher });
    // block stops at the first match; replace and audit scan every message whole.
    actions[action] = measure((t) => filter.apply(t), texts);
    say(`  ${action.padEnd(8)} ${actions[action]?.mbPerSec} MB/s  ${actions[action]?.msgsPerSec} msgs/s`);
  }
  const worst: Record<string, Rate> = {};
  const replace = new SensitiveWordFilter({ action: 'replace', matcher: WordMatcher.build([...words, 'bad', '가나']) });
  for (const kind of ['flags', 'combining', 'zero-width', 'jamo']) {
    worst[kind] = measure((t) => replace.apply(t), [adversarial(kind, 10_240)]);
    say(`  adversarial ${kind.padEnd(10)} ${worst[kind]?.msPerMsg} ms/msg (${worst[kind]?.mbPerSec} MB/s)`);
  }

  const config = loadConfig({ ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY: randomBytes(32).toString('base64') }).encryption;
  const crypto = await createContentCrypto(config);
  const kb = message(words, 1024);
  const sealed = await crypto.sealContent(kb, 'msg-id-0001');
  const sealPerSec = await measureAsync(() => crypto.sealContent(kb, 'msg-id-0001'));
  const openPerSec = await measureAsync(() => crypto.openContent(sealed, 'msg-id-0001'));
  const kbBytes = Buffer.byteLength(kb);
  say(`seal 1 KB: ${sealPerSec} msgs/s (${round((sealPerSec * kbBytes) / 1e6)} MB/s); open 1 KB: ${openPerSec} msgs/s (${round((openPerSec * kbBytes) / 1e6)} MB/s)`);

  const target = 50;
  const worstAction = Math.min(...Object.values(actions).map((a) => a.mbPerSec));
  say(`slowest action ${worstAction} MB/s vs target ${target} MB/s: ${worstAction >= target ? 'met' : 'NOT met'}`);
  const result = {
    bench: 'filter',
    at: new Date().toISOString(),
    conditions: { ...conditions, loadavgAtEnd: loadavg().map((l) => round(l, 2)) },
    wordList: { words: matcher.size, compileMs },
    messages: { count: texts.length, bytes: Buffer.byteLength(texts[0] as string), matchesPerMessage: sample.count },
    filter: actions,
    adversarial: worst,
    encryption: { messageBytes: kbBytes, sealPerSec, openPerSec },
    targetMbPerSec: target,
    targetMet: worstAction >= target,
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'filter.json'), `${JSON.stringify(result, null, 2)}\n`);
  say(`wrote ${join(resultsDir, 'filter.json')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
