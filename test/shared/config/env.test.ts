import fc from 'fast-check';
import { loadConfig } from '../../../shared/config';
import { parseDuration } from '../../../shared/config/env';
import { ConfigError } from '../../../shared/errors';

describe('parseDuration', () => {
  it.each([
    ['5s', 5000],
    ['168h', 604_800_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['2d', 172_800_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', 'abc', '5x', '-1s', 's', '5s junk', '1h 30m'])('rejects %p', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('round-trips any sum of units', () => {
    fc.assert(
      fc.property(fc.nat(999), fc.nat(59), fc.nat(59), fc.nat(999), (h, m, s, ms) => {
        const text = `${h}h${m}m${s}s${ms}ms`;
        expect(parseDuration(text)).toBe(((h * 60 + m) * 60 + s) * 1000 + ms);
      }),
    );
  });
});

describe('loadConfig', () => {
  it('uses the seeds defaults', () => {
    const c = loadConfig({});
    expect(c.server.grpcPort).toBe(9094);
    expect(c.server.httpPort).toBe(8080);
    expect(c.server.maxMessageSize).toBe(10240);
    expect(c.offlineWorker).toMatchObject({
      consumerGroup: 'im-service-offline-workers',
      batchSize: 100,
      batchTimeoutMs: 5000,
      maxRetries: 5,
      retryBackoffMs: [1000, 2000, 4000, 8000, 16000],
    });
    expect(c.messages.ttlMs).toBe(168 * 3_600_000);
    expect(c.sequence.snapshotInterval).toBe(10_000);
    expect(c.db).toMatchObject({ host: 'localhost', port: 3306, user: 'im_service', name: 'im_chat' });
    expect(c.redis).toMatchObject({ host: 'localhost', port: 6379, db: 2 });
    expect(c.registry.ttlMs).toBe(90_000);
    expect(c.registry.keepaliveIntervalMs).toBe(30_000);
  });

  it('accepts DB_HOST with a port, as the seeds write it', () => {
    expect(loadConfig({ DB_HOST: 'mysql-master:3307' }).db).toMatchObject({ host: 'mysql-master', port: 3307 });
  });

  it.each([
    ['GRPC_PORT', 'abc'],
    ['GRPC_PORT', '70000'],
    ['HTTP_PORT', '-1'],
    ['BATCH_SIZE', '0'],
    ['BATCH_TIMEOUT', '5'],
    ['RETRY_BACKOFF', '1s,,x'],
    ['FILTER_ACTION', 'delete'],
    ['OFFLINE_STORE_POLICY', 'sometimes'],
    ['ENCRYPTION_ENABLED', 'maybe'],
    ['REDIS_ADDR', 'redis:port'],
    ['JWT_SECRET', 'short'],
  ])('rejects %s=%p naming the variable', (name, value) => {
    let caught: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(name);
    expect((caught as ConfigError).message.startsWith(`${name}: `)).toBe(true);
  });

  it('never throws anything but ConfigError on arbitrary values', () => {
    const names = ['GRPC_PORT', 'BATCH_SIZE', 'BATCH_TIMEOUT', 'RETRY_BACKOFF', 'FILTER_ACTION', 'DB_HOST', 'KAFKA_BROKERS'];
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.string(), (name, value) => {
        try {
          loadConfig({ [name]: value });
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
        }
      }),
    );
  });
});
