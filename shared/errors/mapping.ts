/**
 * Maps an ImError onto HTTP (a status with a JSON body) and onto a Kafka consumer's
 * disposition; ./grpc maps it onto gRPC. Internal errors are rendered with a generic
 * message; their detail goes to logs.
 */
import { ERROR_CODES, type ErrorCode } from './codes';
import { asImError, publicMessage } from './errors';

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
