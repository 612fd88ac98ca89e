/**
 * The word list file: parsing, start-up rules (explicit path must exist, the default
 * may be absent), reload on change with a temp file, and a bad reload keeping the old
 * list. Timings are tens of milliseconds, configured per test.
 */
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../shared/errors';
import { createSensitiveWordFilter } from '../../../shared/filter/create';
import { parseWordList } from '../../../shared/filter/wordlist';
import { createMetrics } from '../../../shared/observability/metrics';
import { eventually, testConfig, testLogger } from '../../support/env';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wordlist-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const filterConfig = (env: Record<string, string>) => testConfig({ FILTER_RELOAD_INTERVAL: '40ms', ...env }).filter;

describe('parseWordList', () => {
  it('takes one word per line, skips comments and blanks, trims, tolerates BOM and CRLF', () => {
    expect(parseWordList('\uFEFF# header\r\nbad\r\n\r\n  two words  \n#not\n坏蛋\n')).toEqual(['bad', 'two words', '坏蛋']);
  });

  it('refuses absurdly long lines', () => {
    expect(() => parseWordList(`ok\n${'x'.repeat(300)}\n`)).toThrow(/line 2/);
  });
});

describe('word list source', () => {
  it('an explicitly configured path that is missing stops start-up naming FILTER_WORDLIST_PATH', async () => {
    const config = filterConfig({ FILTER_WORDLIST_PATH: join(dir, 'absent.txt') });
    await expect(createSensitiveWordFilter(config, { logger: testLogger() })).rejects.toThrow(ConfigError);
    await expect(createSensitiveWordFilter(config, { logger: testLogger() })).rejects.toThrow(/^FILTER_WORDLIST_PATH: /);
  });

  it('the default path may be absent: empty list, and the file is picked up when it appears', async () => {
    const config = { ...filterConfig({}), wordlistPath: join(dir, 'later.txt'), wordlistPathExplicit: false };
    const { filter, close } = await createSensitiveWordFilter(config, { logger: testLogger(), debounceMs: 20 });
    try {
      expect(filter.size).toBe(0);
      writeFileSync(join(dir, 'later.txt'), 'late\n');
      await eventually(() => filter.enforce('too late') === 'too ****', 3000, 20);
    } finally {
      close();
    }
  });

  it('a file that is not UTF-8 text stops start-up', async () => {
    const path = join(dir, 'bin.txt');
    writeFileSync(path, Buffer.from([0x62, 0x61, 0xff, 0x64]));
    await expect(createSensitiveWordFilter(filterConfig({ FILTER_WORDLIST_PATH: path }), { logger: testLogger() })).rejects.toThrow(
      /FILTER_WORDLIST_PATH: .*not valid UTF-8/,
    );
  });

  it('reloads on change (also by atomic rename), keeps the old list on a bad reload, counts reloads', async () => {
    const path = join(dir, 'words.txt');
    writeFileSync(path, 'alpha\n');
    const metrics = createMetrics();
    const { filter, close } = await createSensitiveWordFilter(filterConfig({ FILTER_WORDLIST_PATH: path }), {
      logger: testLogger(),
      metrics,
      debounceMs: 20,
    });
    const reloads = async (outcome: string) =>
      (await metrics.filterWordlistReloads.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    try {
      expect(filter.enforce('alpha beta')).toBe('***** beta');
      expect((await metrics.filterWordlistWords.get()).values[0]?.value).toBe(1);

      writeFileSync(path, 'alpha\nbeta\n');
      await eventually(() => filter.enforce('alpha beta') === '***** ****', 3000, 20);

      // Replaced by rename, as editors and Kubernetes ConfigMaps do.
      writeFileSync(join(dir, 'next.tmp'), 'gamma\n');
      renameSync(join(dir, 'next.tmp'), path);
      await eventually(() => filter.enforce('alpha gamma') === 'alpha *****', 3000, 20);

      // A bad version (invalid UTF-8) is refused; the list in use stays.
      writeFileSync(path, Buffer.from([0x67, 0xff]));
      await eventually(async () => (await reloads('failed')) === 1, 3000, 20);
      expect(filter.enforce('alpha gamma')).toBe('alpha *****');

      // The file disappearing keeps the list too.
      unlinkSync(path);
      await eventually(async () => (await reloads('missing')) === 1, 3000, 20);
      expect(filter.enforce('gamma')).toBe('*****');

      // And a good file afterwards is loaded.
      writeFileSync(path, 'delta\n');
      await eventually(() => filter.enforce('gamma delta') === 'gamma *****', 3000, 20);
      expect(await reloads('loaded')).toBe(3);
      expect((await metrics.filterWordlistWords.get()).values[0]?.value).toBe(1);
    } finally {
      close();
    }
  });

  it('does not reload with FILTER_RELOAD_INTERVAL=0s', async () => {
    const path = join(dir, 'still.txt');
    writeFileSync(path, 'one\n');
    const { filter, close } = await createSensitiveWordFilter(filterConfig({ FILTER_WORDLIST_PATH: path, FILTER_RELOAD_INTERVAL: '0s' }), {
      logger: testLogger(),
      debounceMs: 10,
    });
    try {
      writeFileSync(path, 'two\n');
      await new Promise((r) => setTimeout(r, 200));
      expect(filter.enforce('one two')).toBe('*** two');
    } finally {
      close();
    }
  });

  it('FILTER_ENABLED=false reads no file at all', async () => {
    const config = filterConfig({ FILTER_ENABLED: 'false', FILTER_WORDLIST_PATH: join(dir, 'absent.txt') });
    const { filter, close } = await createSensitiveWordFilter(config, { logger: testLogger() });
    expect(filter.enforce('anything')).toBe('anything');
    close();
  });
});
