/**
 * The Dockerfile checked statically (no Docker engine on these machines): a supported
 * Node LTS base, a non-root user, an image holding only dist/<function>/, COPY sources
 * that exist and that .dockerignore lets through, and an entry that is the bundle.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTION_NAMES } from '../../shared/runtime/types';

const root = join(__dirname, '../..');

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  body: Instruction[];
}

/** Joins continuation lines, drops comments, splits into stages; substitutes ARG defaults. */
function parseDockerfile(text: string, buildArgs: Record<string, string>) {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const vars: Record<string, string> = {};
  const subst = (s: string) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => vars[a ?? b] ?? `\${${a ?? b}}`);
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', args = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const OP = op.toUpperCase();
    if (OP === 'ARG') {
      const [name = '', def] = args.split('=');
      vars[name] = buildArgs[name] ?? def ?? vars[name] ?? '';
      if (stages.length > 0) stages[stages.length - 1]?.body.push({ op: OP, args });
    } else if (OP === 'FROM') {
      const [image = '', , name] = subst(args).split(/\s+/);
      stages.push({ from: image, ...(name ? { name } : {}), body: [] });
    } else {
      stages[stages.length - 1]?.body.push({ op: OP, args: subst(args) });
    }
  }
  return stages;
}

const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** .dockerignore semantics for the patterns we use: last match wins, `!` re-includes. */
function ignored(path: string): boolean {
  let out = false;
  for (const p of dockerignore) {
    const neg = p.startsWith('!');
    const pat = (neg ? p.slice(1) : p).replace(/\/$/, '');
    if (pat === '*' || path === pat || path.startsWith(`${pat}/`)) out = !neg;
  }
  return out;
}

describe('Dockerfile', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(root, 'build.mjs'), ...FUNCTION_NAMES, 'migrate'], { cwd: root, stdio: 'pipe' });
  }, 120000);

  it.each([...FUNCTION_NAMES, 'migrate'])('builds an image for %s holding only its bundle', (fn) => {
    const stages = parseDockerfile(dockerfile, { FUNCTION: fn });
    const runtime = stages[stages.length - 1] as Stage;
    const build = stages[0] as Stage;

    // a supported Node LTS (22) on a small base
    expect(runtime.from).toMatch(/^gcr\.io\/distroless\/nodejs22-debian12(:nonroot)?$|^node:22[\w.-]*-slim$/);
    expect(build.from).toMatch(/^node:22[\w.-]*-slim$/);
    // non-root
    const user = runtime.body.filter((i) => i.op === 'USER').pop()?.args ?? '';
    expect(user).toMatch(/^(65532(:65532)?|nonroot|node)$/);
    // the runtime copies only dist/<fn>/ from the build stage, and it exists after build
    const copies = runtime.body.filter((i) => i.op === 'COPY');
    expect(copies).toHaveLength(1);
    const [from, src, dest] = (copies[0]?.args ?? '').split(/\s+/);
    expect(from).toBe(`--from=${build.name}`);
    expect(src).toBe(`/src/dist/${fn}/`);
    expect(dest).toBe('/app/');
    expect(existsSync(join(root, 'dist', fn, 'index.js'))).toBe(true);
    // the entry is that bundle
    const entry = runtime.body.find((i) => i.op === 'ENTRYPOINT');
    expect(JSON.parse(entry?.args ?? '[]')).toEqual(['/nodejs/bin/node', '/app/index.js']);
    // the build stage builds this function
    expect(build.body.some((i) => i.op === 'RUN' && i.args.includes(`node build.mjs "${fn}"`))).toBe(true);
  });

  it('copies into the build stage only sources that exist and .dockerignore lets through', () => {
    const build = parseDockerfile(dockerfile, { FUNCTION: 'mark-read' })[0] as Stage;
    const sources = build.body
      .filter((i) => i.op === 'COPY')
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
      .filter((s) => !s.startsWith('--'));
    expect(sources.length).toBeGreaterThan(4);
    for (const s of sources) {
      expect([s, existsSync(join(root, s))]).toEqual([s, true]);
      expect([s, ignored(s.replace(/^\.\//, ''))]).toEqual([s, false]);
    }
    for (const kept of ['node_modules', 'dist', '.git', 'test', 'charts']) expect(ignored(kept)).toBe(true);
  });
});
