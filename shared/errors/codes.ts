/**
 * The closed list of product error codes: the twelve of the original API
 * (seeds/002) plus the few this product adds, each with the one gRPC status, HTTP
 * status and retry disposition it maps to. Every edge (gRPC, HTTP, Kafka) maps through
 * this table and nowhere else.
 */
import { GrpcStatus, type GrpcStatusCode } from './grpc-status';

export interface CodeSpec {
  readonly grpc: GrpcStatusCode;
  readonly http: number;
  /** A caller (or a consumer's retry loop) may try the same thing again. */
  readonly retryable: boolean;
}

export const ERROR_CODES = {
  // seeds/002: message routing
  INVALID_RECIPIENT: { grpc: GrpcStatus.NOT_FOUND, http: 404, retryable: false },
  MESSAGE_TOO_LARGE: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 413, retryable: false },
  DUPLICATE_MESSAGE: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409, retryable: false },
  ROUTING_FAILED: { grpc: GrpcStatus.UNAVAILABLE, http: 503, retryable: true },
  SEQUENCE_ERROR: { grpc: GrpcStatus.UNAVAILABLE, http: 503, retryable: true },
  // seeds/002: storage
  STORAGE_ERROR: { grpc: GrpcStatus.UNAVAILABLE, http: 503, retryable: true },
  RETRIEVAL_ERROR: { grpc: GrpcStatus.UNAVAILABLE, http: 503, retryable: true },
  QUOTA_EXCEEDED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429, retryable: false },
  // seeds/002: service
  SERVICE_UNAVAILABLE: { grpc: GrpcStatus.UNAVAILABLE, http: 503, retryable: true },
  REGISTRY_ERROR: { grpc: GrpcStatus.UNAVAILABLE, http: 503, retryable: true },
  KAFKA_ERROR: { grpc: GrpcStatus.UNAVAILABLE, http: 503, retryable: true },
  ENCRYPTION_ERROR: { grpc: GrpcStatus.INTERNAL, http: 500, retryable: false },
  // added by this product
  INVALID_ARGUMENT: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, retryable: false },
  INVALID_PAYLOAD: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, retryable: false },
  CONTENT_BLOCKED: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 422, retryable: false },
  NOT_GROUP_MEMBER: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403, retryable: false },
  DEVICE_LIMIT_EXCEEDED: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429, retryable: false },
  UNAUTHENTICATED: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401, retryable: false },
  PERMISSION_DENIED: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403, retryable: false },
  NOT_FOUND: { grpc: GrpcStatus.NOT_FOUND, http: 404, retryable: false },
  DEADLINE_EXCEEDED: { grpc: GrpcStatus.DEADLINE_EXCEEDED, http: 504, retryable: true },
  INTERNAL: { grpc: GrpcStatus.INTERNAL, http: 500, retryable: false },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (value: string): value is ErrorCode =>
  Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
