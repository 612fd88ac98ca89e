/**
 * Master key material of the local key provider: ENCRYPTION_KEY (one base64 32-byte
 * key, version 1) or ENCRYPTION_KEY_FILE, a mounted secret holding either one bare
 * base64 key or several versioned lines `v1:<base64>`, `v2:<base64>`… (`#` comments
 * and blank lines allowed). The highest version wraps new data keys; every listed
 * version stays readable, so rotating the master is adding a line.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors';

export interface MasterKey {
  readonly version: number;
  readonly key: Buffer;
}

const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;

export function decodeMasterKey(text: string, variable: string, where = ''): Buffer {
  const t = text.trim();
  if (!BASE64_32.test(t)) {
    throw new ConfigError(variable, `${where}must be the base64 encoding of exactly 32 bytes (e.g. \`openssl rand -base64 32\`)`);
  }
  return Buffer.from(t, 'base64');
}

export function parseKeyFile(content: string, variable = 'ENCRYPTION_KEY_FILE'): MasterKey[] {
  const lines = content
    .split(/\r?\n/)
    .map((l, i) => ({ text: l.trim(), n: i + 1 }))
    .filter((l) => l.text !== '' && !l.text.startsWith('#'));
  if (lines.length === 0) throw new ConfigError(variable, 'holds no key');
  const versioned = lines.filter((l) => /^v?\d+\s*:/.test(l.text));
  if (versioned.length === 0 && lines.length === 1) {
    return [{ version: 1, key: decodeMasterKey(lines[0]?.text ?? '', variable) }];
  }
  if (versioned.length !== lines.length) {
    throw new ConfigError(variable, 'with more than one key, every line must read v<version>:<base64 key>');
  }
  const keys = new Map<number, Buffer>();
  for (const { text, n } of lines) {
    const i = text.indexOf(':');
    const version = Number(text.slice(0, i).trim().replace(/^v/, ''));
    if (!Number.isSafeInteger(version) || version < 1 || version > 0x7fffffff) {
      throw new ConfigError(variable, `line ${n}: version must be a positive integer`);
    }
    if (keys.has(version)) throw new ConfigError(variable, `line ${n}: version ${version} appears twice`);
    keys.set(version, decodeMasterKey(text.slice(i + 1), variable, `line ${n}: the key `));
  }
  return [...keys].map(([version, key]) => ({ version, key })).sort((a, b) => a.version - b.version);
}

export async function readKeyFile(path: string): Promise<MasterKey[]> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError('ENCRYPTION_KEY_FILE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseKeyFile(content);
}
