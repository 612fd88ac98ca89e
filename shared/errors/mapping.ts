/**
 * Maps an ImError onto each transport: a gRPC status with the code in trailing
 * metadata, an HTTP status with a JSON body, and a Kafka consumer disposition.
 * Internal errors are rendered with a generic message; their detail goes to logs.
 */
import { Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { ERROR_CODES, isErrorCode, type ErrorCode } from './codes';
import { ImError, asImError } from './errors';

export const ERROR_CODE_METADATA_KEY = 'im-error-code';

const publicMessage = (err: ImError): string =>
  err.code === 'INTERNAL' ? 'internal error' : err.message;

export function toGrpcError(err: unknown): Partial<ServiceError> {
  const e = asImError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, e.code);
  return { code: ERROR_CODES[e.code].grpc, details: `${e.code}: ${publicMessage(e)}`, metadata };
}

/** Reads the product code back from a gRPC client error (for clients and tests). */
export function fromGrpcError(err: ServiceError): ImError {
  const raw = err.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  const code: ErrorCode =
    typeof raw === 'string' && isErrorCode(raw)
      ? raw
      : err.code === GrpcStatus.DEADLINE_EXCEEDED
        ? 'DEADLINE_EXCEEDED'
        : err.code === GrpcStatus.UNAVAILABLE
          ? 'SERVICE_UNAVAILABLE'
          : 'INTERNAL';
  const prefix = `${code}: `;
  const message = err.details?.startsWith(prefix) ? err.details.slice(prefix.length) : err.details;
  return new ImError(code, message ?? err.message, { cause: err });
}

export interface HttpErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export function toHttpError(err: unknown): { status: number; body: HttpErrorBody } {
  const e = asImError(err);
  const body: HttpErrorBody = { error: { code: e.code, message: publicMessage(e) } };
  if (e.details && e.code !== 'INTERNAL') body.error.details = { ...e.details };
  return { status: ERROR_CODES[e.code].http, body };
}

/**
 * What a Kafka consumer does with a record whose processing failed: retry transient
 * failures (then pause the partition), dead-letter what can never succeed.
 */
export type KafkaDisposition = 'retry' | 'dead-letter';

export const kafkaDisposition = (err: unknown): KafkaDisposition =>
  asImError(err).retryable ? 'retry' : 'dead-letter';
