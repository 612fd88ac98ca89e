/**
 * The three actions as a router sees them through `enforce`, and `apply`'s report.
 */
import { ImError } from '../../../shared/errors';
import { SensitiveWordFilter, type FilterAction } from '../../../shared/filter/filter';
import { WordMatcher } from '../../../shared/filter/matcher';
import { createMetrics } from '../../../shared/observability/metrics';
import { testLogger } from '../../support/env';

const LIST = ['坏蛋', 'badword', 'ばか', '🍆'];

function filterWith(action: FilterAction) {
  const metrics = createMetrics();
  const filter = new SensitiveWordFilter({ action, matcher: WordMatcher.build(LIST), logger: testLogger(), metrics });
  const hits = async () => (await metrics.filterMatches.get()).values.find((v) => v.labels.action === action)?.value ?? 0;
  return { filter, hits };
}

describe('SensitiveWordFilter', () => {
  it('block: refuses a message with a listed word as CONTENT_BLOCKED, without echoing the word', async () => {
    const { filter, hits } = filterWith('block');
    let err: unknown;
    try {
      filter.enforce('you ＢＡＤＷＯＲＤ', { msgId: 'm1' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImError);
    expect((err as ImError).code).toBe('CONTENT_BLOCKED');
    expect((err as ImError).message).not.toMatch(/badword/i);
    expect(filter.enforce('a clean message')).toBe('a clean message');
    expect(await hits()).toBe(1);
  });

  it('replace: masks one * per character and delivers the rest unchanged', async () => {
    const { filter, hits } = filterWith('replace');
    expect(filter.enforce('你是坏蛋吗? BadWord! 🍆🍆')).toBe('你是**吗? *******! **');
    expect(filter.enforce('nothing here')).toBe('nothing here');
    expect(await hits()).toBe(1);
  });

  it('audit: delivers the text unchanged and reports the matches', async () => {
    const { filter, hits } = filterWith('audit');
    const text = 'ばか and 坏蛋 and ばか';
    expect(filter.enforce(text)).toBe(text);
    const outcome = filter.apply(text);
    expect(outcome).toMatchObject({ text, action: 'audit', blocked: false, count: 3 });
    expect(outcome.matches.map((m) => m.word)).toEqual(['ばか', '坏蛋', 'ばか']);
    expect(await hits()).toBe(1);
  });

  it('apply never throws: block is reported as blocked', () => {
    const { filter } = filterWith('block');
    expect(filter.apply('x 坏蛋 y')).toMatchObject({ blocked: true, count: 1, text: 'x 坏蛋 y' });
    expect(filter.apply('clean')).toMatchObject({ blocked: false, count: 0 });
  });

  it('swaps the list in one step', () => {
    const { filter } = filterWith('replace');
    expect(filter.enforce('new')).toBe('new');
    filter.setMatcher(WordMatcher.build(['new']));
    expect(filter.size).toBe(1);
    expect(filter.enforce('brand new')).toBe('brand ***');
  });

  it('passes everything with an empty list', () => {
    const filter = new SensitiveWordFilter({ action: 'block' });
    expect(filter.enforce('坏蛋')).toBe('坏蛋');
  });
});
