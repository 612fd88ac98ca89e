/**
 * Generated artefacts stay in step with their sources: shared/gen with proto/ (buf +
 * ts-proto, pinned), and the configuration tables with shared/config/config.ts.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '../..');
const run = (script: string) => execFileSync(process.execPath, [join(root, script), '--check'], { cwd: root, encoding: 'utf8' });

it('shared/gen matches a fresh generation from proto/ (and buf lint passes)', () => {
  expect(run('scripts/proto-gen.mjs')).toContain('shared/gen matches proto/');
});

it('the configuration tables match shared/config/config.ts', () => {
  expect(() => run('scripts/config-doc.mjs')).not.toThrow();
});
