import fc from 'fast-check';
import { MAX_ID_LENGTH, prefixRangeEnd, RegistryKeys } from '../../../shared/registry/keys';

// Ids drawn from every code point, plus the characters the layout must survive.
const tricky = fc.constantFrom('/', ':', '|', '%', '%2F', ' ', '..', '用户', '🙂', 'devices', '\u0000');
const id = fc
  .array(fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }), tricky), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join(''))
  .filter((s) => s.length > 0 && s.length <= MAX_ID_LENGTH);

describe('registry key layout', () => {
  const keys = new RegistryKeys('/im/registry/');

  it('lays a device out as <prefix>users/<user>/devices/<device>', () => {
    expect(keys.deviceKey('alice', 'phone-1')).toBe('/im/registry/users/alice/devices/phone-1');
    expect(keys.userPrefix('alice')).toBe('/im/registry/users/alice/devices/');
    expect(keys.deviceKey('a/b', 'gw:1|x')).toBe('/im/registry/users/a%2Fb/devices/gw%3A1%7Cx');
  });

  it('parses back exactly the user and device it was built from', () => {
    fc.assert(
      fc.property(id, id, (userId, deviceId) => {
        expect(keys.parseDeviceKey(keys.deviceKey(userId, deviceId))).toEqual({ userId, deviceId });
      }),
    );
  });

  it("never puts one user's keys under another user's prefix", () => {
    fc.assert(
      fc.property(id, id, id, (a, b, device) => {
        fc.pre(a !== b);
        expect(keys.deviceKey(b, device).startsWith(keys.userPrefix(a))).toBe(false);
      }),
    );
  });

  it.each([
    ['/im/registry/users/alice'],
    ['/im/registry/users/alice/devices/'],
    ['/im/registry/users/alice/other/d1'],
    ['/im/registry/users/alice/devices/d1/extra'],
    ['/im/registry/users/%E0%A4%A/devices/d1'],
    ['/im/registry/users/a%2fb/devices/d1'], // not the canonical (upper-case) encoding
    ['/elsewhere/users/alice/devices/d1'],
  ])('treats %s as no device key', (key) => {
    expect(keys.parseDeviceKey(key)).toBeUndefined();
  });

  it.each([
    ['', 'INVALID_ARGUMENT'],
    ['x'.repeat(MAX_ID_LENGTH + 1), 'INVALID_ARGUMENT'],
    ['\uD800', 'INVALID_ARGUMENT'],
  ])('refuses the id %j with %s', (bad, code) => {
    expect(() => keys.deviceKey(bad, 'd1')).toThrow(expect.objectContaining({ code }));
    expect(() => keys.deviceKey('u1', bad)).toThrow(expect.objectContaining({ code }));
  });

  it('bounds a prefix range so that exactly the keys starting with the prefix fall in it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 6 }), fc.uint8Array({ maxLength: 6 }), (p, other) => {
        const prefix = Buffer.from(p);
        const end = prefixRangeEnd(prefix);
        const key = Buffer.from(other);
        const inRange =
          Buffer.compare(key, prefix) >= 0 && (end.equals(Buffer.from([0])) || Buffer.compare(key, end) < 0);
        const withPrefix = Buffer.concat([prefix, key]);
        expect(Buffer.compare(withPrefix, prefix) >= 0).toBe(true);
        if (!end.equals(Buffer.from([0]))) expect(Buffer.compare(withPrefix, end) < 0).toBe(true);
        expect(inRange).toBe(key.subarray(0, prefix.length).equals(prefix));
      }),
    );
  });
});
