/**
 * Test helpers: configuration built the way a process builds it (from env), random
 * names so tests never collide or need a flush, and a host started on ephemeral ports.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../shared/config';
import { createLogger, type Logger } from '../../shared/observability/logger';
import { Host } from '../../shared/runtime/host';
import type { FunctionDefinition } from '../../shared/runtime/types';

export const uid = (prefix = 't'): string => `${prefix}-${randomUUID().slice(0, 12)}`;

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    ...process.env,
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    SHUTDOWN_TIMEOUT: '5s',
    ...overrides,
  });
}

export const testLogger = (): Logger => createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent');

/** Starts a host on ephemeral ports; remember to `await host.stop()`. */
export async function startTestHost(
  functions: readonly FunctionDefinition[],
  overrides: Record<string, string> = {},
): Promise<Host> {
  const host = new Host({ config: testConfig(overrides), logger: testLogger(), functions });
  await host.start();
  return host;
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(
  probe: () => Promise<T> | T,
  timeoutMs = 10000,
  everyMs = 50,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs}ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
