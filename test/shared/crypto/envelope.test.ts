/**
 * EnvelopeCipher: round trips, tamper detection (any bit of any field, or the
 * associated data), and the DEK cache under an injected clock.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { EnvelopeCipher, LocalKeyProvider, type KeyProvider, type WrappedKey } from '../../../shared/crypto';
import { ImError } from '../../../shared/errors';
import type { Sealed } from '../../../shared/gen/im/events/v1/events';

const DAY = 86_400_000;

function clock(start = 1_750_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** Counts what reaches the provider, to see the caches work. */
class CountingProvider implements KeyProvider {
  wraps = 0;
  unwraps = 0;
  constructor(readonly inner: KeyProvider) {}
  async wrap(dek: Uint8Array): Promise<WrappedKey> {
    this.wraps++;
    return this.inner.wrap(dek);
  }
  async unwrap(key: WrappedKey): Promise<Uint8Array> {
    this.unwraps++;
    return this.inner.unwrap(key);
  }
}

function setup(dekTtlMs = 60_000) {
  const c = clock();
  const local = new LocalKeyProvider({ keyName: 'local', masters: [{ version: 1, key: randomBytes(32) }], rotationDays: 90, now: c.now });
  const provider = new CountingProvider(local);
  const cipher = new EnvelopeCipher({ provider, dekTtlMs, now: c.now });
  return { cipher, provider, clock: c };
}

async function encryptionError(p: Promise<unknown>): Promise<ImError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ImError);
    expect((err as ImError).code).toBe('ENCRYPTION_ERROR');
    return err as ImError;
  }
  throw new Error('expected ENCRYPTION_ERROR');
}

const clone = (s: Sealed): Sealed => ({
  ...s,
  wrappedKey: Buffer.from(s.wrappedKey),
  nonce: Buffer.from(s.nonce),
  ciphertext: Buffer.from(s.ciphertext),
});

describe('EnvelopeCipher', () => {
  it('round-trips any bytes with any associated data', async () => {
    const { cipher } = setup();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 12_000 }), fc.uint8Array({ maxLength: 64 }), async (plain, aad) => {
        const sealed = await cipher.seal(plain, aad);
        expect(sealed.alg).toBe('AES-256-GCM');
        expect(sealed.nonce).toHaveLength(12);
        expect(sealed.ciphertext).toHaveLength(plain.length + 16);
        expect(Buffer.from(await cipher.open(sealed, aad)).equals(Buffer.from(plain))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('uses a fresh nonce for every message under one DEK', async () => {
    const { cipher } = setup();
    const nonces = new Set<string>();
    for (let i = 0; i < 500; i++) nonces.add((await cipher.seal(Buffer.from('same'))).nonce.toString('hex'));
    expect(nonces.size).toBe(500);
    expect(cipher.dataKeysCreated).toBe(1);
  });

  it('detects a flipped bit anywhere: ciphertext, tag, nonce, wrapped key, key id, key version', async () => {
    const { cipher } = setup();
    const original = await cipher.seal(Buffer.from('the quick brown fox 敏感 🦊'), Buffer.from('msg-1'));
    const field = fc.constantFrom('ciphertext', 'nonce', 'wrappedKey', 'keyId', 'keyVersion', 'alg');
    await fc.assert(
      fc.asyncProperty(field, fc.nat(), fc.integer({ min: 0, max: 7 }), async (f, at, bit) => {
        const s = clone(original);
        if (f === 'keyVersion') s.keyVersion = s.keyVersion ^ (1 << (at % 32));
        else if (f === 'keyId' || f === 'alg') {
          const b = Buffer.from(s[f]);
          b[at % b.length] ^= 1 << bit;
          s[f] = b.toString('latin1');
        } else {
          const b = s[f];
          b[at % b.length] ^= 1 << bit;
        }
        await encryptionError(cipher.open(s, Buffer.from('msg-1')));
      }),
      { numRuns: 300 },
    );
    // Truncations are refused too.
    await encryptionError(cipher.open({ ...clone(original), ciphertext: original.ciphertext.subarray(0, 10) }, Buffer.from('msg-1')));
    await encryptionError(cipher.open({ ...clone(original), nonce: original.nonce.subarray(0, 11) }, Buffer.from('msg-1')));
  });

  it('binds the associated data: content moved to another message does not open', async () => {
    const { cipher } = setup();
    const sealed = await cipher.seal(Buffer.from('hello'), Buffer.from('msg-1'));
    await encryptionError(cipher.open(sealed, Buffer.from('msg-2')));
    await encryptionError(cipher.open(sealed));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 16 }), async (other) => {
        fc.pre(!Buffer.from(other).equals(Buffer.from('msg-1')));
        await encryptionError(cipher.open(sealed, other));
      }),
      { numRuns: 100 },
    );
  });

  it('keeps one DEK for DEK_CACHE_TTL, then wraps a new one (old ones still open)', async () => {
    const { cipher, provider, clock: c } = setup(60_000);
    const first = await Promise.all(Array.from({ length: 20 }, (_, i) => cipher.seal(Buffer.from(`m${i}`))));
    expect(provider.wraps).toBe(1); // concurrent sealers shared one wrap
    expect(new Set(first.map((s) => s.wrappedKey.toString('hex'))).size).toBe(1);

    c.advance(59_999);
    const stillFirst = await cipher.seal(Buffer.from('x'));
    expect(stillFirst.wrappedKey.equals(first[0]?.wrappedKey as Buffer)).toBe(true);

    c.advance(1);
    const second = await cipher.seal(Buffer.from('y'));
    expect(provider.wraps).toBe(2);
    expect(second.wrappedKey.equals(first[0]?.wrappedKey as Buffer)).toBe(false);
    expect((await cipher.open(first[3] as Sealed)).toString()).toBe('m3');
    expect((await cipher.open(second)).toString()).toBe('y');
  });

  it('with DEK_CACHE_TTL=0 wraps a new DEK for every message', async () => {
    const { cipher, provider } = setup(0);
    for (let i = 0; i < 5; i++) await cipher.seal(Buffer.from('m'));
    expect(provider.wraps).toBe(5);
  });

  it('unwraps a DEK once per TTL when opening many messages', async () => {
    const { cipher: writer, provider } = setup(60_000);
    const sealed = await Promise.all(Array.from({ length: 10 }, () => writer.seal(Buffer.from('z'))));
    const c = clock();
    const reader = new EnvelopeCipher({ provider, dekTtlMs: 60_000, now: c.now });
    for (const s of sealed) expect((await reader.open(s)).toString()).toBe('z');
    expect(provider.unwraps).toBe(1);
    c.advance(60_001);
    await reader.open(sealed[0] as Sealed);
    expect(provider.unwraps).toBe(2);
  });

  it('rotates the key version with the clock and keeps every old version readable', async () => {
    const { cipher, clock: c } = setup(60_000);
    const versions: number[] = [];
    const sealed: Sealed[] = [];
    for (let period = 0; period < 4; period++) {
      const s = await cipher.seal(Buffer.from(`period ${period}`));
      versions.push(s.keyVersion);
      sealed.push(s);
      c.advance(90 * DAY);
    }
    expect(new Set(versions).size).toBe(4);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    for (const [i, s] of sealed.entries()) expect((await cipher.open(s)).toString()).toBe(`period ${i}`);
  });
});
