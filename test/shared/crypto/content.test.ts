/**
 * sealContent / openContent as the functions use them, built from configuration the
 * way a process builds it, including the start-up errors naming the variable.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContentCrypto } from '../../../shared/crypto';
import { ConfigError, ImError } from '../../../shared/errors';
import { Content } from '../../../shared/gen/im/events/v1/events';
import { testConfig } from '../../support/env';

const KEY = randomBytes(32).toString('base64');
const enc = (env: Record<string, string>) => testConfig(env).encryption;

describe('content crypto', () => {
  it('seals text into Content.sealed bound to the msg_id and opens it after a protobuf round trip', async () => {
    const crypto = await createContentCrypto(enc({ ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY: KEY }));
    const text = 'héllo 你好 👋🏽 ﬁ';
    const content = await crypto.sealContent(text, 'msg-42');
    expect(content.body?.$case).toBe('sealed');
    const wire = Content.encode(content).finish();
    expect(Buffer.from(wire).includes(Buffer.from('你好'))).toBe(false);
    expect(await crypto.openContent(Content.decode(wire), 'msg-42')).toBe(text);
    await expect(crypto.openContent(Content.decode(wire), 'msg-43')).rejects.toMatchObject({ code: 'ENCRYPTION_ERROR' });
  });

  it('passes plaintext content through, and an empty content is empty text', async () => {
    const crypto = await createContentCrypto(enc({ ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY: KEY }));
    expect(await crypto.openContent({ body: { $case: 'text', value: 'plain' } }, 'any')).toBe('plain');
    expect(await crypto.openContent(undefined)).toBe('');
    expect(await crypto.openContent({ body: undefined })).toBe('');
  });

  it('disabled: stores text as is, but still opens what was sealed while enabled', async () => {
    const on = await createContentCrypto(enc({ ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY: KEY }));
    const sealed = await on.sealContent('secret', 'm1');
    const off = await createContentCrypto(enc({ ENCRYPTION_ENABLED: 'false', ENCRYPTION_KEY: KEY }));
    expect(off.enabled).toBe(false);
    expect(await off.sealContent('plain', 'm2')).toEqual({ body: { $case: 'text', value: 'plain' } });
    expect(await off.openContent(sealed, 'm1')).toBe('secret');

    const noKey = await createContentCrypto(enc({ ENCRYPTION_ENABLED: 'false' }));
    const err = await noKey.openContent(sealed, 'm1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImError);
    expect((err as ImError).message).toMatch(/no encryption key/);
  });

  it('reads the key from a mounted secret file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enc-'));
    try {
      const file = join(dir, 'key');
      writeFileSync(file, `v1:${KEY}\nv7:${randomBytes(32).toString('base64')}\n`);
      const crypto = await createContentCrypto(enc({ ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY_FILE: file, KMS_KEY_ID: 'prod' }));
      const c = await crypto.sealContent('x', 'm');
      expect(c.body?.$case === 'sealed' && c.body.value.keyId).toBe('prod:v7');
      expect(await crypto.openContent(c, 'm')).toBe('x');
      // A message sealed with ENCRYPTION_KEY (version 1) opens with the file too.
      const fromEnv = await createContentCrypto(enc({ ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY: KEY, KMS_KEY_ID: 'prod' }));
      expect(await crypto.openContent(await fromEnv.sealContent('old', 'm0'), 'm0')).toBe('old');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ ENCRYPTION_ENABLED: 'true' }, /^ENCRYPTION_KEY: is required when ENCRYPTION_ENABLED=true/],
    [{ ENCRYPTION_KEY: 'not-base64!' }, /^ENCRYPTION_KEY: must be the base64 encoding of exactly 32 bytes/],
    [{ ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }, /^ENCRYPTION_KEY: must be/],
  ])('configuration %j stops start-up naming the variable', (env, message) => {
    expect(() => testConfig(env)).toThrow(ConfigError);
    expect(() => testConfig(env)).toThrow(message);
  });

  it('a missing key file or both key sources stop start-up naming the variable', async () => {
    await expect(createContentCrypto(enc({ ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY_FILE: '/nonexistent/key' }))).rejects.toThrow(
      /^ENCRYPTION_KEY_FILE: cannot read/,
    );
    await expect(
      createContentCrypto(enc({ ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY: KEY, ENCRYPTION_KEY_FILE: '/nonexistent/key' })),
    ).rejects.toThrow(/^ENCRYPTION_KEY_FILE: set either/);
  });
});
