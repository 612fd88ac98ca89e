/**
 * docs/errors.md must state exactly the mapping the code applies. Run with
 * UPDATE_DOCS=1 to rewrite the table from shared/errors/codes.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { ERROR_CODES } from '../../../shared/errors';

const path = join(__dirname, '../../../docs/errors.md');
const START = '<!-- error-table:start -->';
const END = '<!-- error-table:end -->';

const grpcName = (n: number): string => Object.entries(status).find(([, v]) => v === n)?.[0] ?? String(n);
const table = [
  '| code | gRPC status | HTTP status | retryable (Kafka: retry, else dead-letter) |',
  '| --- | --- | --- | --- |',
  ...Object.entries(ERROR_CODES).map(
    ([code, s]) => `| \`${code}\` | ${grpcName(s.grpc)} (${s.grpc}) | ${s.http} | ${s.retryable ? 'yes' : 'no'} |`,
  ),
].join('\n');

it('docs/errors.md lists the mapping the code applies', () => {
  const doc = readFileSync(path, 'utf8');
  const i = doc.indexOf(START);
  const j = doc.indexOf(END);
  const fresh = `${doc.slice(0, i + START.length)}\n${table}\n${doc.slice(j)}`;
  if (process.env['UPDATE_DOCS'] === '1') writeFileSync(path, fresh);
  expect(i).toBeGreaterThan(0);
  expect(doc).toBe(fresh);
});
