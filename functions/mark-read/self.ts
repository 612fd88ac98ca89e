/**
 * The caller of every /api/v1 route is the token's subject. Fields of the original
 * API that named a user (`reader_id`, `user_id`) are accepted for its clients only
 * when they name the caller; any other user is PERMISSION_DENIED.
 */
import type { Response } from 'express';
import { principalOf, type Principal } from '../../shared/auth/jwt';
import { ImError } from '../../shared/errors';

export function callerOf(res: Response, legacy: Record<string, string | undefined> = {}): string {
  return callerFrom(principalOf(res), legacy);
}

/** callerOf for a principal in hand (routes served outside express). */
export function callerFrom(principal: Principal, legacy: Record<string, string | undefined> = {}): string {
  const caller = principal.userId;
  for (const [field, value] of Object.entries(legacy)) {
    if (value !== undefined && value !== caller) {
      throw new ImError('PERMISSION_DENIED', `${field} must be the authenticated user`, { details: { field } });
    }
  }
  return caller;
}
