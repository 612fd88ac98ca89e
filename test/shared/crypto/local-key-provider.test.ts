/**
 * The local key provider: key file formats, master rotation keeping old messages
 * readable, period rotation, unknown key ids and versions, and the re-read of a key
 * file that gained a version.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvelopeCipher, LocalKeyProvider, parseKeyFile, readKeyFile, type MasterKey } from '../../../shared/crypto';
import { ConfigError, ImError } from '../../../shared/errors';

const DAY = 86_400_000;
const k1 = randomBytes(32);
const k2 = randomBytes(32);
const b64 = (b: Buffer) => b.toString('base64');
const T0 = 1_750_000_000_000;

function provider(masters: MasterKey[], now = () => T0, reload?: () => Promise<MasterKey[]>) {
  return new LocalKeyProvider({ keyName: 'local', masters, rotationDays: 90, now, ...(reload ? { reload } : {}) });
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof ImError ? `${err.code}: ${err.message}` : String(err);
  }
}

describe('parseKeyFile', () => {
  it('reads one bare key as version 1', () => {
    expect(parseKeyFile(`${b64(k1)}\n`)).toEqual([{ version: 1, key: k1 }]);
  });

  it('reads versioned lines with comments, in version order', () => {
    const keys = parseKeyFile(`# rotated 2025-06\nv2:${b64(k2)}\n\nv1: ${b64(k1)}\n`);
    expect(keys.map((k) => k.version)).toEqual([1, 2]);
    expect(keys[1]?.key.equals(k2)).toBe(true);
  });

  it.each([
    ['', /holds no key/],
    ['# only a comment\n', /holds no key/],
    [`v1:${b64(k1)}\nv1:${b64(k2)}`, /appears twice/],
    [`v1:${b64(k1)}\n${b64(k2)}`, /every line must read/],
    ['v1:c2hvcnQ=', /exactly 32 bytes/],
    [`v0:${b64(k1)}`, /positive integer/],
  ])('refuses %j', (content, message) => {
    expect(() => parseKeyFile(content)).toThrow(ConfigError);
    expect(() => parseKeyFile(content)).toThrow(message);
  });

  it('names ENCRYPTION_KEY_FILE when the file cannot be read', async () => {
    await expect(readKeyFile('/nonexistent/keys')).rejects.toThrow(/^ENCRYPTION_KEY_FILE: cannot read/);
  });
});

describe('LocalKeyProvider', () => {
  it('wraps under the highest master version; every listed version unwraps', async () => {
    const old = provider([{ version: 1, key: k1 }]);
    const wrappedV1 = await old.wrap(randomBytes(32));
    expect(wrappedV1.keyId).toBe('local:v1');

    const rotated = provider([{ version: 1, key: k1 }, { version: 2, key: k2 }]);
    const dek = randomBytes(32);
    const wrappedV2 = await rotated.wrap(dek);
    expect(wrappedV2.keyId).toBe('local:v2');
    expect(Buffer.from(await rotated.unwrap(wrappedV2)).equals(dek)).toBe(true);
    expect(await code(rotated.unwrap(wrappedV1))).toBe('ok');
  });

  it('derives a new key version every KEY_ROTATION_DAYS, the same on every instance', async () => {
    let t = T0;
    const p = provider([{ version: 1, key: k1 }], () => t);
    const other = provider([{ version: 1, key: k1 }], () => t);
    const a = await p.wrap(randomBytes(32));
    t += 90 * DAY;
    const b = await p.wrap(randomBytes(32));
    expect(b.keyVersion - a.keyVersion).toBe(90);
    expect(a.keyVersion % 90).toBe(0);
    expect(other.current()).toEqual({ keyId: 'local:v1', keyVersion: b.keyVersion });
    expect(await code(other.unwrap(a))).toBe('ok');
    expect(await code(other.unwrap(b))).toBe('ok');
  });

  it('refuses an unknown master version, a version from the future and a foreign key id', async () => {
    const onlyV1 = provider([{ version: 1, key: k1 }]);
    const v2 = await provider([{ version: 2, key: k2 }]).wrap(randomBytes(32));
    expect(await code(onlyV1.unwrap(v2))).toBe('ENCRYPTION_ERROR: unknown key version');

    const good = await onlyV1.wrap(randomBytes(32));
    const future = { ...good, keyVersion: Math.floor(T0 / DAY) + 30 };
    expect(await code(onlyV1.unwrap(future))).toBe('ENCRYPTION_ERROR: unknown key version');
    expect(await code(onlyV1.unwrap({ ...good, keyId: 'other:v1' }))).toBe('ENCRYPTION_ERROR: unknown key id');
    expect(await code(onlyV1.unwrap({ ...good, keyVersion: good.keyVersion - 90 }))).toBe(
      'ENCRYPTION_ERROR: wrapped data key failed authentication',
    );
  });

  it('the same master under another KMS_KEY_ID or key version is a different key', async () => {
    const a = new LocalKeyProvider({ keyName: 'a', masters: [{ version: 1, key: k1 }], rotationDays: 90, now: () => T0 });
    const b = new LocalKeyProvider({ keyName: 'b', masters: [{ version: 1, key: k1 }], rotationDays: 90, now: () => T0 });
    const w = await a.wrap(randomBytes(32));
    expect(await code(b.unwrap({ ...w, keyId: 'b:v1' }))).toMatch(/failed authentication/);
  });

  it('re-reads a key file that gained a version before calling it unknown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keys-'));
    try {
      const file = join(dir, 'keys');
      writeFileSync(file, `v1:${b64(k1)}\n`);
      let t = T0;
      const reader = provider(await readKeyFile(file), () => t, () => readKeyFile(file));
      const writer = new EnvelopeCipher({ provider: provider([{ version: 1, key: k1 }, { version: 2, key: k2 }]), dekTtlMs: 1000 });
      const sealed = await writer.seal(Buffer.from('after rotation'));
      expect(sealed.keyId).toBe('local:v2');
      const cipher = new EnvelopeCipher({ provider: reader, dekTtlMs: 1000, now: () => t });
      expect(await code(cipher.open(sealed))).toBe('ENCRYPTION_ERROR: unknown key version');

      writeFileSync(file, `v1:${b64(k1)}\nv2:${b64(k2)}\n`);
      expect(await code(cipher.open(sealed))).toBe('ENCRYPTION_ERROR: unknown key version'); // re-read at most once a second
      t += 1000;
      expect((await cipher.open(sealed)).toString()).toBe('after rotation');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
