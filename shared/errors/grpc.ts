/**
 * Maps an ImError onto gRPC: the table's status, with the product code in the trailing
 * metadata `im-error-code` and the details prefixed by it; and back, for clients and
 * tests. Kept apart from ./mapping so HTTP-only bundles carry no @grpc/grpc-js.
 */
import { Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { ERROR_CODES, isErrorCode, type ErrorCode } from './codes';
import { ImError, asImError, publicMessage } from './errors';

export const ERROR_CODE_METADATA_KEY = 'im-error-code';

export function toGrpcError(err: unknown): Partial<ServiceError> {
  const e = asImError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, e.code);
  return { code: ERROR_CODES[e.code].grpc as GrpcStatus, details: `${e.code}: ${publicMessage(e)}`, metadata };
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

