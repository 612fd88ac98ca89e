import fc from 'fast-check';
import {
  groupConversationId,
  parseConversationId,
  privateConversationId,
  USER_ID_PATTERN,
} from '../../../shared/sequence/conversation-id';

const ALPHABET = 'abAB09_.:@-'.split('');
const userId = fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 1, maxLength: 12 });
const longUserId = fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 1, maxLength: 128 });

describe('conversation ids', () => {
  it.each([
    ['alice', 'bob', 'p:alice:bob'],
    ['bob', 'alice', 'p:alice:bob'],
    ['a', 'b:c', 'p:1:a:b:c'],
    ['a:b', 'c', 'p:3:a:b:c'],
    ['u1', 'u1', 'p:u1:u1'],
  ])('private(%s, %s) = %s', (a, b, expected) => {
    expect(privateConversationId(a, b)).toBe(expected);
  });

  it('builds group ids as g:<groupId>', () => {
    expect(groupConversationId('team-42')).toBe('g:team-42');
    expect(parseConversationId('g:team-42')).toEqual({ kind: 'group', groupId: 'team-42' });
  });

  it.each([[''], ['a b'], ['x'.repeat(129)], ['é']])('rejects the malformed user id %j with INVALID_ARGUMENT', (bad) => {
    expect(() => privateConversationId(bad, 'bob')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => groupConversationId(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('is symmetric: a→b and b→a share one id', () => {
    fc.assert(fc.property(userId, userId, (a, b) => privateConversationId(a, b) === privateConversationId(b, a)));
  });

  it('is injective over unordered pairs, also for ids containing ":"', () => {
    fc.assert(
      fc.property(userId, userId, userId, userId, (a, b, c, d) => {
        const same = (a === c && b === d) || (a === d && b === c);
        return same === (privateConversationId(a, b) === privateConversationId(c, d));
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps apart the pairs a naive "p:<min>:<max>" would merge', () => {
    // Every split of one string at a ':' gives a pair whose naive id is that string.
    const word = fc.string({ unit: fc.constantFrom('a', 'b', ':'), minLength: 3, maxLength: 10 });
    fc.assert(
      fc.property(word, (w) => {
        const pairs = [...w].flatMap((ch, i) => {
          const [x, y] = [w.slice(0, i), w.slice(i + 1)];
          return ch === ':' && USER_ID_PATTERN.test(x) && USER_ID_PATTERN.test(y) ? [[x, y] as const] : [];
        });
        const ids = new Set(pairs.map(([x, y]) => privateConversationId(x, y)));
        const distinctPairs = new Set(pairs.map(([x, y]) => (x <= y ? `${x}|${y}` : `${y}|${x}`)));
        return ids.size === distinctPairs.size;
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes what it builds, fits VARCHAR(300), and never looks like a group id', () => {
    fc.assert(
      fc.property(longUserId, longUserId, (a, b) => {
        const id = privateConversationId(a, b);
        const parsed = parseConversationId(id);
        expect(parsed).toEqual({ kind: 'private', users: a <= b ? [a, b] : [b, a] });
        expect(id.length).toBeLessThanOrEqual(300);
        expect(id.startsWith('p:')).toBe(true);
      }),
    );
  });

  it('rejects non-canonical or foreign strings when parsing', () => {
    for (const bad of ['p:1:a:b', 'p:b:a', 'p:2:a:b:c', 'x:a:b', 'p:a', 'p::b', 'g:', 'p:0:a:b:c']) {
      expect(parseConversationId(bad)).toBeUndefined();
    }
    expect(USER_ID_PATTERN.test('user@example.com')).toBe(true);
  });
});
