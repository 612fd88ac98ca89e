import fc from 'fast-check';
import { messageFingerprint } from '../../../shared/dedup';

describe('messageFingerprint', () => {
  const base = { senderId: 'alice', recipientId: 'bob', content: 'hello', metadata: { a: '1', b: '2' } };

  it('ignores metadata order and is a sha256 hex digest', () => {
    const fp = messageFingerprint(base);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(messageFingerprint({ ...base, metadata: { b: '2', a: '1' } })).toBe(fp);
  });

  it.each([
    ['content', { ...base, content: 'hello!' }],
    ['sender', { ...base, senderId: 'carol' }],
    ['recipient', { ...base, recipientId: 'dave' }],
    ['metadata value', { ...base, metadata: { a: '1', b: '3' } }],
    ['metadata key', { ...base, metadata: { a: '1', c: '2' } }],
    ['a group with the same id', { senderId: 'alice', groupId: 'bob', content: 'hello', metadata: base.metadata }],
    ['bytes instead of text', { ...base, content: new TextEncoder().encode('hello') }],
  ])('changes with the %s', (_what, input) => {
    expect(messageFingerprint(input)).not.toBe(messageFingerprint(base));
  });

  it('does not confuse field boundaries', () => {
    const text = fc.string({ maxLength: 6 });
    fc.assert(
      fc.property(text, text, text, text, (s1, r1, s2, r2) => {
        const same = s1 === s2 && r1 === r2;
        const a = messageFingerprint({ senderId: s1, recipientId: r1, content: '' });
        const b = messageFingerprint({ senderId: s2, recipientId: r2, content: '' });
        return same === (a === b);
      }),
    );
  });
});
