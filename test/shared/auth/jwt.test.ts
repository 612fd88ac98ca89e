/**
 * JwtAuth: HS256 verification with audience/issuer/expiry, and the verified-token
 * memory — a token is reused only until its exp (and at most a minute), a forged or
 * expired one is never remembered.
 */
import { SignJWT } from 'jose';
import { JwtAuth } from '../../../shared/auth/jwt';
import { testConfig } from '../../support/env';

describe('JwtAuth', () => {
  const cfg = testConfig().auth;
  const auth = new JwtAuth(cfg);
  const secret = new TextEncoder().encode(cfg.jwtSecret);
  const token = (sub: string, expSeconds: number, key = secret) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setAudience(cfg.audience)
      .setIssuer(cfg.issuer)
      .setIssuedAt()
      .setExpirationTime(expSeconds)
      .sign(key);

  it('verifies a token and reuses the answer only until its exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 30;
    const t = await token('alice', exp);
    expect(await auth.verify(t)).toEqual({ userId: 'alice', admin: false });
    expect(await auth.verify(t)).toEqual({ userId: 'alice', admin: false });
    // Past exp (and past jose's 5 s tolerance): refused although it verified before.
    await expect(auth.verify(t, exp * 1000 + 6000)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('never remembers a forged or expired token', async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const forged = await token('mallory', exp, new TextEncoder().encode('x'.repeat(40)));
    await expect(auth.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(auth.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const expired = await token('bob', Math.floor(Date.now() / 1000) - 60);
    await expect(auth.verify(expired)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses a subject that is not a valid user id', async () => {
    const t = await token('has space', Math.floor(Date.now() / 1000) + 60);
    await expect(auth.verify(t)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
