/**
 * Process entry for a host: reads config (a bad value prints one line naming the
 * variable and exits 1), starts the given functions, and turns SIGTERM/SIGINT into a
 * graceful drain that must finish within SHUTDOWN_TIMEOUT.
 */
import { ConfigError } from '../errors';
import { loadConfig, DEV_JWT_SECRET, type Config } from '../config';
import { createLogger } from '../observability/logger';
import { compileCacheState } from './compile-cache';
import { Host } from './host';
import type { FunctionDefinition } from './types';

export function loadConfigOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`config error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

export async function runMain(functions: readonly FunctionDefinition[], service: string): Promise<Host> {
  const cache = compileCacheState();
  // The image build's run that writes the compile cache: the modules are evaluated,
  // nothing starts (no config to read, no servers to reach).
  if (cache?.writing) return new Promise<Host>(() => undefined);
  const config = loadConfigOrExit();
  const logger = createLogger(config.log.level, { service });
  if (cache?.status === 'rejected') {
    logger.warn('V8 rejected index.js.cache (made by another node build or with other V8 flags); compiling from source');
  } else if (cache?.status === 'stale') {
    logger.warn('index.js.cache was written for another index.js; compiling from source');
  }
  if (config.auth.jwtSecret === DEV_JWT_SECRET && functions.some((f) => f.name === 'mark-read')) {
    logger.warn('JWT_SECRET is the development default; set it in production');
  }
  const host = new Host({ config, logger, functions });
  let exiting = false;
  const shutdown = (signal: string) => {
    if (exiting) return;
    exiting = true;
    logger.info({ signal }, 'shutdown requested');
    const hard = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.server.shutdownTimeoutMs + 2000);
    hard.unref();
    host.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await host.start();
  } catch (err) {
    logger.fatal({ err }, 'start failed');
    await host.stop().catch(() => undefined);
    process.exit(1);
  }
  return host;
}
