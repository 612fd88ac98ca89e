import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ERROR_CODES, GrpcStatus, ImError, kafkaDisposition, toHttpError, type ErrorCode } from '../../../shared/errors';
import { fromGrpcError, toGrpcError } from '../../../shared/errors/grpc';

const SEED_CODES: ErrorCode[] = [
  'INVALID_RECIPIENT',
  'MESSAGE_TOO_LARGE',
  'DUPLICATE_MESSAGE',
  'ROUTING_FAILED',
  'SEQUENCE_ERROR',
  'STORAGE_ERROR',
  'RETRIEVAL_ERROR',
  'QUOTA_EXCEEDED',
  'SERVICE_UNAVAILABLE',
  'REGISTRY_ERROR',
  'KAFKA_ERROR',
  'ENCRYPTION_ERROR',
];

describe('error mapping', () => {
  it('covers every code of the original API', () => {
    for (const code of SEED_CODES) expect(ERROR_CODES[code]).toBeDefined();
  });

  it.each(Object.keys(ERROR_CODES) as ErrorCode[])('%s round-trips through gRPC', (code) => {
    const g = toGrpcError(new ImError(code, 'something specific'));
    expect(g.code).toBe(ERROR_CODES[code].grpc);
    const back = fromGrpcError(g as ServiceError);
    expect(back.code).toBe(code);
    if (code !== 'INTERNAL') expect(back.message).toBe('something specific');
  });

  it.each(Object.keys(ERROR_CODES) as ErrorCode[])('%s renders one HTTP status and JSON body', (code) => {
    const { status: httpStatus, body } = toHttpError(new ImError(code, 'msg'));
    expect(httpStatus).toBe(ERROR_CODES[code].http);
    expect(body.error.code).toBe(code);
  });

  it('hides internal details from callers', () => {
    const raw = new Error("ER_PARSE_ERROR: You have an error in your SQL syntax near 'DROP'");
    expect(toHttpError(raw).body.error).toEqual({ code: 'INTERNAL', message: 'internal error' });
    expect(toGrpcError(raw).details).toBe('INTERNAL: internal error');
  });

  it('reads plain transport failures without a code trailer', () => {
    const e = { code: status.UNAVAILABLE, details: 'connection refused', metadata: new Metadata() } as ServiceError;
    expect(fromGrpcError(e).code).toBe('SERVICE_UNAVAILABLE');
  });

  it('retries transient failures and dead-letters poison', () => {
    expect(kafkaDisposition(new ImError('STORAGE_ERROR', 'db down'))).toBe('retry');
    expect(kafkaDisposition(new ImError('INVALID_PAYLOAD', 'garbage'))).toBe('dead-letter');
    expect(kafkaDisposition(new Error('unknown'))).toBe('dead-letter');
  });
});

describe('gRPC status numbers', () => {
  it('are the protocol codes grpc-js defines', () => {
    for (const [name, code] of Object.entries(GrpcStatus)) {
      expect(status[name as keyof typeof status]).toBe(code);
    }
    expect(Object.keys(GrpcStatus)).toHaveLength(Object.keys(status).filter((k) => Number.isNaN(Number(k))).length);
  });
});
