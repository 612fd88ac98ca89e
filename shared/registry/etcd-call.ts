/**
 * Every registry call to etcd goes through here: the caller is answered by a local
 * timer at its deadline, and any failure becomes ImError REGISTRY_ERROR — the code
 * callers branch on to take the offline path.
 *
 * The call on the wire gets a later gRPC deadline (WIRE_GRACE_MS more): etcd3 closes
 * and re-dials all of a host's channels whenever a call fails with DEADLINE_EXCEEDED,
 * so cutting slow-but-alive calls at the caller's deadline would make the next calls
 * slower still. A call that outlives its caller finishes (or fails) on its own,
 * bounded by the grace.
 */
import type { CallOptions } from '@grpc/grpc-js';
import { ImError, isImError } from '../errors';
import { TimeoutError, withTimeout } from '../runtime/timeout';

/** How long a call may run on the wire after its caller has been answered. */
export const WIRE_GRACE_MS = 1000;

/** gRPC call options that end the call at `deadlineMs` (epoch ms). */
export const callOptions = (deadlineMs: number): CallOptions => ({ deadline: new Date(deadlineMs) });

/** Runs one etcd call to be answered by `deadlineMs`, failing with REGISTRY_ERROR. */
export async function etcdCall<T>(what: string, deadlineMs: number, call: (opts: CallOptions) => Promise<T>): Promise<T> {
  const remaining = deadlineMs - Date.now();
  if (remaining <= 0) throw new ImError('REGISTRY_ERROR', `registry ${what}: deadline exceeded`);
  try {
    return await withTimeout(call(callOptions(deadlineMs + WIRE_GRACE_MS)), remaining, `registry ${what}`);
  } catch (err) {
    throw registryError(what, err);
  }
}

export function registryError(what: string, err: unknown): ImError {
  if (isImError(err)) return err;
  const reason = err instanceof TimeoutError ? 'deadline exceeded' : err instanceof Error ? err.message : String(err);
  return new ImError('REGISTRY_ERROR', `registry ${what} failed: ${reason}`, { cause: err });
}
