export { ERROR_CODES, isErrorCode, type ErrorCode, type CodeSpec } from './codes';
export { ImError, ConfigError, isImError, asImError } from './errors';
export {
  ERROR_CODE_METADATA_KEY,
  toGrpcError,
  fromGrpcError,
  toHttpError,
  kafkaDisposition,
  type HttpErrorBody,
  type KafkaDisposition,
} from './mapping';
