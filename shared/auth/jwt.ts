/**
 * Bearer JWT authentication for the HTTP API (jose): HS256 with JWT_SECRET, or RS256
 * and friends from a JWKS URL when JWT_JWKS_URL is set. Expiry, audience and issuer
 * are checked; the user is the `sub` claim, and `role: "admin"` marks an admin token.
 * A token that verified is remembered (bounded, for at most a minute and never past
 * its `exp`): clients send the same token on every call, and a signature check and two
 * base64/JSON decodes per request are a tenth of a cheap request's CPU.
 */
import { SignJWT, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config';
import { ImError } from '../errors';

export interface Principal {
  readonly userId: string;
  readonly admin: boolean;
}

export const USER_ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;

/** How long a verified token is trusted without checking it again (capped by its exp). */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;

export class JwtAuth {
  readonly #secret: Uint8Array;
  readonly #jwks: JWTVerifyGetKey | undefined;
  /** token → principal and until when it may be reused; Map order = insertion order (oldest evicted first). */
  readonly #verified = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly cfg: Config['auth']) {
    this.#secret = new TextEncoder().encode(cfg.jwtSecret);
    this.#jwks = cfg.jwksUrl ? createRemoteJWKSet(new URL(cfg.jwksUrl)) : undefined;
  }

  async verify(token: string, now = Date.now()): Promise<Principal> {
    const known = this.#verified.get(token);
    if (known) {
      if (known.until > now) return known.principal;
      this.#verified.delete(token);
    }
    try {
      const options = { audience: this.cfg.audience, issuer: this.cfg.issuer, clockTolerance: 5, currentDate: new Date(now) };
      const { payload } = this.#jwks
        ? await jwtVerify(token, this.#jwks, options)
        : await jwtVerify(token, this.#secret, { ...options, algorithms: ['HS256'] });
      const sub = payload.sub;
      if (typeof sub !== 'string' || !USER_ID_PATTERN.test(sub)) {
        throw new ImError('UNAUTHENTICATED', 'token subject is not a valid user id');
      }
      const principal: Principal = { userId: sub, admin: payload['role'] === 'admin' };
      // A token without exp is still checked every time: nothing bounds how long it is good.
      if (typeof payload.exp === 'number') {
        if (this.#verified.size >= VERIFIED_MAX) this.#verified.delete(this.#verified.keys().next().value as string);
        this.#verified.set(token, { principal, until: Math.min(payload.exp * 1000, now + VERIFIED_TTL_MS) });
      }
      return principal;
    } catch (err) {
      if (err instanceof ImError) throw err;
      throw new ImError('UNAUTHENTICATED', 'invalid or expired token');
    }
  }

  /** Issues an HS256 token (development and tests; production tokens come from the IdP). */
  sign(userId: string, opts: { admin?: boolean; expiresIn?: string } = {}): Promise<string> {
    return new SignJWT(opts.admin ? { role: 'admin' } : {})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setAudience(this.cfg.audience)
      .setIssuer(this.cfg.issuer)
      .setIssuedAt()
      .setExpirationTime(opts.expiresIn ?? '12h')
      .sign(this.#secret);
  }

  /**
   * The principal of an `Authorization: Bearer <jwt>` header value: UNAUTHENTICATED when
   * it is missing, malformed or does not verify; PERMISSION_DENIED for a user token
   * where `admin` is asked for.
   */
  async authenticate(header: string | undefined, options: { admin?: boolean } = {}): Promise<Principal> {
    const m = BEARER.exec(header ?? '');
    if (!m) throw new ImError('UNAUTHENTICATED', 'missing or malformed bearer token');
    const principal = await this.verify(m[1] as string);
    if (options.admin && !principal.admin) throw new ImError('PERMISSION_DENIED', 'admin token required');
    return principal;
  }

  /** Express middleware: sets `res.locals.principal` or fails as `authenticate` does. */
  middleware(options: { admin?: boolean } = {}) {
    return (req: Request, res: Response, next: NextFunction): void => {
      this.authenticate(req.headers.authorization, options).then(
        (principal) => {
          res.locals['principal'] = principal;
          next();
        },
        (err: unknown) => next(err),
      );
    };
  }
}

export const principalOf = (res: Response): Principal => {
  const p = res.locals['principal'] as Principal | undefined;
  if (!p) throw new ImError('UNAUTHENTICATED', 'not authenticated');
  return p;
};
