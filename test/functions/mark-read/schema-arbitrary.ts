/**
 * fast-check arbitraries derived from the OpenAPI document's JSON schemas: `valid`
 * builds values a schema accepts, `invalid` mutates them into shapes it must refuse
 * (wrong types, missing or unknown properties, out-of-range numbers, strings breaking
 * their pattern or length, hostile strings). Only the keywords the document uses are
 * understood; anything else fails loudly so the fuzzer cannot silently thin out.
 */
import fc from 'fast-check';
import type { JsonSchema, OpenApi } from '../../../functions/mark-read/openapi';

const HOSTILE_STRINGS = [
  '',
  ' ',
  '../../../../etc/passwd',
  '..',
  '.',
  '/',
  '%00',
  '\u0000',
  "' OR 1=1 --",
  '"; DROP TABLE offline_messages; --',
  '<script>alert(1)</script>',
  '\u202e\u0301ünïcødé😀',
  '\ud800',
  'a'.repeat(5000),
  '{"$gt":""}',
  '${jndi:ldap://x}',
] as const;

const WRONG_TYPES: readonly unknown[] = [null, true, 0, -1, 1.5, 'text', [], {}, [1, 2], { a: 1 }, 1e300];

const typesOf = (s: JsonSchema): string[] => {
  const t = s['type'];
  if (Array.isArray(t)) return t as string[];
  if (typeof t === 'string') return [t];
  if ('const' in s || 'enum' in s) return [];
  return [];
};

export class SchemaArbitraries {
  constructor(private readonly api: OpenApi) {}

  valid(schema: JsonSchema): fc.Arbitrary<unknown> {
    const s = this.api.resolve(schema);
    if ('const' in s) return fc.constant(s['const']);
    if (Array.isArray(s['enum'])) return fc.constantFrom(...(s['enum'] as unknown[]));
    const types = typesOf(s);
    if (types.length > 1) return fc.oneof(...types.map((t) => this.valid({ ...s, type: t })));
    switch (types[0]) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return fc.integer({
          min: Math.max(Number(s['minimum'] ?? -1e9), -1e9),
          max: Math.min(Number(s['maximum'] ?? 1e9), 1e9),
        });
      case 'string': {
        if (typeof s['pattern'] === 'string') return fc.stringMatching(new RegExp(s['pattern'] as string));
        return fc.string({ minLength: Number(s['minLength'] ?? 0), maxLength: Math.min(Number(s['maxLength'] ?? 40), 40) });
      }
      case 'array':
        return fc.array(this.valid((s['items'] as JsonSchema | undefined) ?? {}), { maxLength: 3 });
      case 'object': {
        const props = (s['properties'] as Record<string, JsonSchema> | undefined) ?? {};
        const required = (s['required'] as string[] | undefined) ?? [];
        return fc.record(
          Object.fromEntries(Object.entries(props).map(([k, v]) => [k, this.valid(v)])),
          { requiredKeys: required },
        );
      }
      default:
        if (Object.keys(s).every((k) => ['description', 'deprecated', 'title'].includes(k))) return fc.jsonValue();
        throw new Error(`schema-arbitrary: unsupported schema ${JSON.stringify(s).slice(0, 200)}`);
    }
  }

  /** Values the schema refuses. */
  invalid(schema: JsonSchema): fc.Arbitrary<unknown> {
    const s = this.api.resolve(schema);
    const types = typesOf(s);
    const wrongType = fc.constantFrom(...WRONG_TYPES).filter((v) => !matchesType(v, types, s));
    const options: fc.Arbitrary<unknown>[] = [wrongType];
    if (Array.isArray(s['enum']) || 'const' in s) options.push(fc.constantFrom('not-a-member', 'PRIVATE', 2));
    if (types.includes('integer')) {
      const lo = s['minimum'];
      const hi = s['maximum'];
      if (typeof lo === 'number') options.push(fc.integer({ min: lo - 1e6, max: lo - 1 }));
      if (typeof hi === 'number') options.push(fc.constantFrom(hi + 1, hi * 10, Number.MAX_VALUE));
      options.push(fc.constantFrom(0.5, 1.25, '12', '1e3', 'NaN'));
    }
    if (types.includes('string')) {
      const pattern = typeof s['pattern'] === 'string' ? new RegExp(s['pattern'] as string) : undefined;
      const max = typeof s['maxLength'] === 'number' ? (s['maxLength'] as number) : undefined;
      const breaks = (v: string) => (pattern ? !pattern.test(v) : false) || (max !== undefined && v.length > max);
      const hostile = HOSTILE_STRINGS.filter(breaks);
      if (hostile.length > 0) options.push(fc.constantFrom(...hostile));
      if (max !== undefined) options.push(fc.constant('x'.repeat(max + 1)));
      if (pattern) options.push(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter(breaks));
    }
    if (types.includes('object')) {
      const props = (s['properties'] as Record<string, JsonSchema> | undefined) ?? {};
      const required = (s['required'] as string[] | undefined) ?? [];
      const base = this.valid(s) as fc.Arbitrary<Record<string, unknown>>;
      for (const key of required) {
        options.push(base.map((v) => Object.fromEntries(Object.entries(v).filter(([k]) => k !== key))));
      }
      if (s['additionalProperties'] === false) {
        options.push(
          fc
            .tuple(base, fc.constantFrom('extra', '__proto__', 'constructor', 'user', 'admin'), fc.jsonValue())
            .map(([v, k, x]) => {
              // defineProperty: `__proto__` must become an own key, as JSON.parse makes it on the server.
              const out: Record<string, unknown> = { ...v };
              Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
              return out;
            }),
        );
      }
      for (const [key, sub] of Object.entries(props)) {
        options.push(fc.tuple(base, this.invalid(sub)).map(([v, bad]) => ({ ...v, [key]: bad })));
      }
    }
    return fc.oneof(...options);
  }
}

function matchesType(v: unknown, types: string[], s: JsonSchema): boolean {
  if (types.length === 0) return Array.isArray(s['enum']) ? (s['enum'] as unknown[]).includes(v) : s['const'] === v;
  return types.some((t) =>
    t === 'null'
      ? v === null
      : t === 'integer'
        ? Number.isInteger(v)
        : t === 'number'
          ? typeof v === 'number'
          : t === 'array'
            ? Array.isArray(v)
            : t === 'object'
              ? typeof v === 'object' && v !== null && !Array.isArray(v)
              : typeof v === t,
  );
}
