/**
 * The admin users API over real HTTP and MariaDB: admin tokens create users
 * idempotently; user tokens, forged tokens and bad bodies are refused and change
 * nothing.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { SignJWT } from 'jose';
import { JwtAuth } from '../../shared/auth/jwt';
import { markRead } from '../../functions/mark-read/function';
import type { Host } from '../../shared/runtime/host';
import { startTestHost, testConfig, uid } from '../support/env';

describe('POST /admin/v1/users', () => {
  let host: Host;
  let base: string;
  const auth = new JwtAuth(testConfig().auth);
  let admin: string;

  beforeAll(async () => {
    host = await startTestHost([markRead]);
    base = `http://127.0.0.1:${host.httpPort}`;
    admin = await auth.sign('ops', { admin: true });
  });
  afterAll(() => host.stop());

  const post = (token: string | undefined, body: unknown, raw?: string) =>
    fetch(`${base}/admin/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: raw ?? JSON.stringify(body),
    });
  const count = async (userId: string) => {
    const [rows] = await host.deps.mysql().query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users WHERE user_id = ?', [userId]);
    return Number(rows[0]?.['n']);
  };

  it('creates a user once and answers the same user on a retry', async () => {
    const id = uid('alice');
    const first = await post(admin, { user_id: id, display_name: 'Alice' });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ user_id: id, display_name: 'Alice', created: true });
    const again = await post(admin, { user_id: id, display_name: 'Alice' });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ user_id: id, created: false });
    expect(await count(id)).toBe(1);
  });

  it.each([
    ['no token', undefined, 401, 'UNAUTHENTICATED'],
    ['a user token', 'user', 403, 'PERMISSION_DENIED'],
    ['a forged token', 'forged', 401, 'UNAUTHENTICATED'],
    ['garbage', 'garbage', 401, 'UNAUTHENTICATED'],
  ])('refuses %s', async (_name, kind, status, code) => {
    const id = uid('mallory');
    const token =
      kind === 'user'
        ? await auth.sign('mallory')
        : kind === 'forged'
          ? await new SignJWT({ role: 'admin' })
              .setProtectedHeader({ alg: 'HS256' })
              .setSubject('ops')
              .setAudience('im-functions')
              .setIssuer('im-functions')
              .setExpirationTime('1h')
              .sign(new TextEncoder().encode('x'.repeat(64)))
          : kind === 'garbage'
            ? 'not.a.jwt'
            : undefined;
    const res = await post(token, { user_id: id });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    expect(await count(id)).toBe(0);
  });

  it.each([
    ['missing user_id', { display_name: 'x' }],
    ['empty user_id', { user_id: '' }],
    ['bad charset', { user_id: 'a b/c' }],
    ['wrong type', { user_id: 42 }],
    ['unknown field', { user_id: 'ok-id', admin: true }],
    ['long name', { user_id: 'ok-id', display_name: 'x'.repeat(300) }],
  ])('answers %s with INVALID_ARGUMENT', async (_name, body) => {
    const res = await post(admin, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_ARGUMENT');
    expect(await count('ok-id')).toBe(0);
  });

  it('answers malformed and oversized JSON with 4xx codes', async () => {
    const bad = await post(admin, undefined, '{"user_id": ');
    expect(bad.status).toBe(400);
    const huge = await post(admin, undefined, JSON.stringify({ user_id: 'x', display_name: 'y'.repeat(200_000) }));
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: { code: string } }).error.code).toBe('MESSAGE_TOO_LARGE');
  });
});
