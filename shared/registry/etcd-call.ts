/**
 * Every registry call to etcd goes through here: it carries a gRPC deadline (so the
 * call is cancelled on the wire, not just abandoned) and a local timer (so a caller is
 * answered even while etcd3's retry and circuit-breaker policies are still working),
 * and any failure becomes ImError REGISTRY_ERROR — the code callers branch on to take
 * the offline path.
 */
import type { CallOptions } from '@grpc/grpc-js';
import { ImError, isImError } from '../errors';
import { TimeoutError, withTimeout } from '../runtime/timeout';

/** gRPC call options that end the call at `deadlineMs` (epoch ms). */
export const callOptions = (deadlineMs: number): CallOptions => ({ deadline: new Date(deadlineMs) });

/** Runs one etcd call to be answered by `deadlineMs`, failing with REGISTRY_ERROR. */
export async function etcdCall<T>(what: string, deadlineMs: number, call: (opts: CallOptions) => Promise<T>): Promise<T> {
  const remaining = deadlineMs - Date.now();
  if (remaining <= 0) throw new ImError('REGISTRY_ERROR', `registry ${what}: deadline exceeded`);
  try {
    return await withTimeout(call(callOptions(deadlineMs)), remaining, `registry ${what}`);
  } catch (err) {
    throw registryError(what, err);
  }
}

export function registryError(what: string, err: unknown): ImError {
  if (isImError(err)) return err;
  const reason = err instanceof TimeoutError ? 'deadline exceeded' : err instanceof Error ? err.message : String(err);
  return new ImError('REGISTRY_ERROR', `registry ${what} failed: ${reason}`, { cause: err });
}
