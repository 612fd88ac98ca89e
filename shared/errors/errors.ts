/**
 * The product's one error type. Everything that crosses an edge is an ImError
 * carrying a code from codes.ts; anything else is wrapped as INTERNAL at the edge so
 * that no stack trace, SQL or driver message leaks to a caller.
 */
import { ERROR_CODES, type ErrorCode } from './codes';

export class ImError extends Error {
  override readonly name = 'ImError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** Safe, structured facts for the caller (e.g. which field was wrong). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = ERROR_CODES[code].retryable;
    this.details = options.details;
  }
}

/** A bad configuration value: the host prints one line naming the variable and exits 1. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

export const isImError = (err: unknown): err is ImError => err instanceof ImError;

/** Wraps an unknown failure as `code` unless it already is an ImError. */
export function asImError(err: unknown, code: ErrorCode = 'INTERNAL', message?: string): ImError {
  if (err instanceof ImError) return err;
  const text = message ?? (err instanceof Error ? err.message : String(err));
  return new ImError(code, text, { cause: err });
}

/** What a caller may see of an error: internal detail stays in the logs. */
export const publicMessage = (err: ImError): string => (err.code === 'INTERNAL' ? 'internal error' : err.message);
