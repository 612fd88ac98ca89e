export { ERROR_CODES, isErrorCode, type ErrorCode, type CodeSpec } from './codes';
export { ImError, ConfigError, isImError, asImError, publicMessage } from './errors';
export { GrpcStatus, type GrpcStatusCode } from './grpc-status';
// gRPC mapping (toGrpcError, fromGrpcError, ERROR_CODE_METADATA_KEY): import from './grpc'.
export {
  toHttpError,
  kafkaDisposition,
  type HttpErrorBody,
  type KafkaDisposition,
} from './mapping';
