// Regenerates shared/gen/ (TypeScript types, codecs and grpc-js service definitions)
// from proto/ with buf and ts-proto, both pinned in package-lock.json, so the output is
// reproducible. `--check` fails when the committed output differs from a fresh run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync, statSync, cpSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const buf = join(root, 'node_modules/.bin/buf');
const out = join(root, 'shared/gen');

function list(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? list(p) : [p];
  });
}

// buf writes <base>/shared/gen; base is the repo root, or a scratch dir for --check.
function generate(base) {
  execFileSync(buf, ['lint', 'proto'], { cwd: root, stdio: 'inherit' });
  execFileSync(buf, ['generate', 'proto', '--template', 'proto/buf.gen.yaml', '-o', base], {
    cwd: root,
    stdio: 'inherit',
  });
}

if (process.argv.includes('--check')) {
  const tmp = mkdtempSync(join(tmpdir(), 'proto-gen-'));
  try {
    generate(tmp);
    const fresh = join(tmp, 'shared/gen');
    const a = list(fresh).map((p) => relative(fresh, p)).sort();
    const b = list(out).map((p) => relative(out, p)).sort();
    const differs = JSON.stringify(a) !== JSON.stringify(b) ||
      a.some((f) => readFileSync(join(fresh, f), 'utf8') !== readFileSync(join(out, f), 'utf8'));
    if (differs) {
      console.error('shared/gen is out of date: run `npm run proto:gen` and commit the result');
      process.exit(1);
    }
    console.log('shared/gen matches proto/');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else {
  rmSync(out, { recursive: true, force: true });
  generate(root);
  console.log(`generated ${list(out).length} files in shared/gen`);
}
