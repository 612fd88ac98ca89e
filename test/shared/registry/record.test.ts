import fc from 'fast-check';
import { decodeRecord, encodeRecord } from '../../../shared/registry/record';

describe('device record codec', () => {
  it('round-trips any gateway address, including ":" and "|"', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', minLength: 1 }), fc.constantFrom('10.0.0.1:9093', 'gw|a:1', '[::1]:9093')),
        fc.nat(),
        (gatewayAddress, registeredAt) => {
          expect(decodeRecord(encodeRecord({ gatewayAddress, registeredAt }))).toEqual({ gatewayAddress, registeredAt });
        },
      ),
    );
  });

  it.each([
    ['not json'],
    ['null'],
    ['[]'],
    ['{"gatewayAddress":"a:1","registeredAt":1}'],
    ['{"v":2,"gatewayAddress":"a:1","registeredAt":1}'],
    ['{"v":1,"gatewayAddress":"","registeredAt":1}'],
    ['{"v":1,"gatewayAddress":"a:1","registeredAt":"1"}'],
    ['{"v":1,"gatewayAddress":"a:1","registeredAt":1.5}'],
  ])('refuses %s', (raw) => {
    expect(decodeRecord(Buffer.from(raw))).toBeUndefined();
  });
});
