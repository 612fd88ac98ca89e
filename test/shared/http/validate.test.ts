/**
 * shared/http/validate: a validator compiles its schema at first use (not at import, which
 * cost every mark-read cold start), then answers INVALID_ARGUMENT naming the path.
 */
import { ImError } from '../../../shared/errors';
import { compile } from '../../../shared/http/validate';

describe('compile', () => {
  const parse = compile<{ name: string; n?: number }>({
    type: 'object',
    properties: { name: { type: 'string', minLength: 1 }, n: { type: 'integer', nullable: true } },
    required: ['name'],
    additionalProperties: false,
  });

  it('returns a valid value as is', () => {
    expect(parse({ name: 'a', n: 2 })).toEqual({ name: 'a', n: 2 });
  });

  it('refuses an invalid value with INVALID_ARGUMENT naming the field', () => {
    const err = (() => {
      try {
        parse({ name: 'a', n: 'x' });
      } catch (e) {
        return e;
      }
    })() as ImError;
    expect(err).toBeInstanceOf(ImError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe('n must be integer');
  });

  it('reports a schema strict mode refuses at its first use, every use', () => {
    const broken = compile({ type: 'object', propertiez: {} });
    expect(() => broken({})).toThrow(/unknown keyword/);
    expect(() => broken({})).toThrow(/unknown keyword/);
  });
});
