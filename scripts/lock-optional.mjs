#!/usr/bin/env node
// Completes package-lock.json with platform-specific optional packages that the
// registry this project installs from does not carry (e.g. darwin/win32 builds of
// @bufbuild/buf and unrs-resolver). npm drops an optional dependency it cannot fetch
// from the lockfile, and `npm ci` then refuses the lockfile as "out of sync". An entry
// with the right os/cpu/libc is never fetched on a platform it does not match, so
// adding it restores `npm ci` without changing what is installed here.
//
// Usage: node scripts/lock-optional.mjs [--check]   (run after every `npm install`)
import { readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const check = process.argv.includes('--check');
const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
const pkgs = lock.packages;

const OS = ['android', 'darwin', 'freebsd', 'linux', 'openharmony', 'win32', 'sunos', 'aix', 'netbsd', 'openbsd'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'armv7', 'loong64', 'ppc64', 's390x', 'riscv64', 'mips64el'];

/** Reads os/cpu/libc off a platform package name such as resolver-binding-linux-arm-gnueabihf. */
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  if (!os || !cpu) return null;
  const out = { os: [os], cpu: [cpu === 'armv7' ? 'arm' : cpu] };
  if (os === 'linux') {
    if (parts.some((p) => p.startsWith('musl'))) out.libc = ['musl'];
    else if (parts.some((p) => p.startsWith('gnu'))) out.libc = ['glibc'];
  }
  return out;
}

/** Where npm would place `dep` required from the package at `from` (node resolution). */
function resolveSlot(from, dep) {
  let base = from;
  for (;;) {
    const slot = `${base ? `${base}/` : ''}node_modules/${dep}`;
    if (pkgs[slot]) return { slot, present: true };
    if (!base) return { slot: `node_modules/${dep}`, present: false };
    const idx = base.lastIndexOf('/node_modules/');
    base = idx < 0 ? '' : base.slice(0, idx);
  }
}

const added = [];
for (const [path, meta] of Object.entries(pkgs)) {
  for (const [dep, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const { slot, present } = resolveSlot(path, dep);
    if (present) continue;
    const platform = platformOf(dep);
    if (!platform) throw new Error(`${path} → optional ${dep}: not a platform package, install it properly`);
    if (!/^\d+\.\d+\.\d+/.test(range)) throw new Error(`${path} → optional ${dep}@${range}: not an exact version`);
    pkgs[slot] = { version: range, ...(meta.dev ? { dev: true } : {}), optional: true, ...platform };
    added.push(`${dep}@${range}`);
  }
}

if (check) {
  if (added.length) {
    console.error(`package-lock.json lacks ${added.length} optional platform entries; run node scripts/lock-optional.mjs`);
    process.exit(1);
  }
} else if (added.length) {
  writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`added ${added.length} entries: ${added.join(', ')}`);
} else {
  console.log('package-lock.json complete');
}
