/**
 * Typed readers for environment variables. Each one either returns a valid value
 * (the default when unset or empty) or throws a ConfigError naming the variable, so a
 * bad value stops a process at start-up with one clear line.
 */
import { ConfigError } from '../errors';

export type Env = Readonly<Record<string, string | undefined>>;

const raw = (env: Env, name: string): string | undefined => {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
};

export function str(env: Env, name: string, def: string): string {
  return raw(env, name) ?? def;
}

export function int(env: Env, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = raw(env, name);
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(name, `must be an integer, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

export const port = (env: Env, name: string, def: number): number => {
  const v = raw(env, name);
  if (v !== undefined && !/^\d+$/.test(v)) throw new ConfigError(name, `must be a port number 0-65535, got "${v}"`);
  return int(env, name, def, 0, 65535);
};

export function bool(env: Env, name: string, def: boolean): boolean {
  const v = raw(env, name)?.toLowerCase();
  if (v === undefined) return def;
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `must be true or false, got "${v}"`);
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], def: T): T {
  const v = raw(env, name);
  if (v === undefined) return def;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${v}"`);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses Go-style durations as the seeds write them ("5s", "168h", "1h30m", "250ms"). */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return undefined; // a bare number is ambiguous: demand a unit
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    consumed = re.lastIndex;
  }
  return consumed === t.length && consumed > 0 ? Math.round(total) : undefined;
}

/** A duration in milliseconds. */
export function duration(env: Env, name: string, def: string, minMs = 0): number {
  const v = raw(env, name) ?? def;
  const ms = parseDuration(v);
  if (ms === undefined) throw new ConfigError(name, `must be a duration like 500ms, 5s, 10m or 168h, got "${v}"`);
  if (ms < minMs) throw new ConfigError(name, `must be at least ${minMs}ms, got "${v}"`);
  return ms;
}

export function durations(env: Env, name: string, def: string): number[] {
  const v = raw(env, name) ?? def;
  return v.split(',').map((part) => {
    const ms = parseDuration(part);
    if (ms === undefined) throw new ConfigError(name, `must be a comma-separated list of durations like 1s,2s,4s, got "${v}"`);
    return ms;
  });
}

export function list(env: Env, name: string, def: string): string[] {
  const items = (raw(env, name) ?? def).split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError(name, 'must list at least one entry');
  return items;
}

/** "host:port" with a default port; accepts a bare host. */
export function hostPort(env: Env, name: string, def: string, defPort: number): { host: string; port: number } {
  const v = raw(env, name) ?? def;
  const m = /^(\[[^\]]+\]|[^:/\s]+)(?::(\d{1,5}))?$/.exec(v);
  const p = m?.[2] === undefined ? defPort : Number(m[2]);
  if (!m || p > 65535) throw new ConfigError(name, `must be host or host:port, got "${v}"`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: p };
}
