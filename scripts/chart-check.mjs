// `npm run chart:check`: the Helm chart checked without a cluster or network.
//  1. values.schema.json is current with shared/config/config.ts (chart-schema.mjs --check);
//  2. helm (pinned, installed by chart-tools.sh) lints the chart --strict with the default
//     values and with every charts/im-functions/ci/*-values.yaml (Knative off, KEDA off,
//     all off, everything set);
//  3. helm template renders each of those, and every document — plus the plain manifests
//     in keda/ — is validated two ways, both with the Kubernetes 1.34 API and the KEDA and
//     Knative CRD models from npm (kubernetes-models, @kubernetes-models/keda|knative):
//     a. the models' JSON-schema validators (types, required fields, enums, formats);
//     b. strictly: each document is type-checked by the TypeScript compiler as an object
//        literal of the model's interface, so an unknown field anywhere is an error.
// Exits 1 on any failure. `--keep` leaves the rendered files in node_modules/.cache.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const chart = join(root, 'charts/im-functions');
const work = join(root, 'node_modules/.cache/im-chart-check');
const require = createRequire(import.meta.url);
const failures = [];
const fail = (where, message) => failures.push(`${where}: ${message}`);

// 1. schema freshness
try {
  execFileSync(process.execPath, [join(root, 'scripts/chart-schema.mjs'), '--check'], { stdio: 'inherit' });
} catch {
  fail('values.schema.json', 'stale');
}

// 2. tools and lint
const bin = execFileSync('sh', [join(root, 'scripts/chart-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  .trim()
  .split('\n')
  .pop();
const helm = (args) =>
  execFileSync(join(bin, 'helm'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HELM_CACHE_HOME: join(work, 'helm-cache'), HELM_CONFIG_HOME: join(work, 'helm-config'), HELM_DATA_HOME: join(work, 'helm-data') } });

const scenarios = [
  { name: 'default', args: [] },
  ...readdirSync(join(chart, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f) => ({ name: f.replace(/-values\.yaml$/, ''), args: ['--values', join(chart, 'ci', f)] })),
];

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const documents = [];
for (const s of scenarios) {
  try {
    helm(['lint', '--strict', chart, ...s.args]);
  } catch (err) {
    fail(`helm lint --strict (${s.name})`, String(err.stdout || err.stderr || err.message).trim());
    continue;
  }
  let rendered;
  try {
    rendered = helm(['template', 'im', chart, '--namespace', 'im', '--kube-version', '1.30.0', ...s.args]);
  } catch (err) {
    fail(`helm template (${s.name})`, String(err.stderr || err.message).trim());
    continue;
  }
  writeFileSync(join(work, `${s.name}.yaml`), rendered);
  collect(rendered, s.name);
}
for (const f of readdirSync(join(root, 'keda')).filter((f) => f.endsWith('.yaml'))) {
  collect(readFileSync(join(root, 'keda', f), 'utf8'), `keda/${f}`);
}

function collect(text, scenario) {
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) {
      fail(scenario, `YAML error: ${doc.errors[0].message}`);
      continue;
    }
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    documents.push({ scenario, value, label: `${value.kind ?? '?'} ${value.metadata?.name ?? '?'}` });
  }
}

// 3. models: module path and interface of each apiVersion/kind
function modelOf({ apiVersion = '', kind = '' }) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const base =
    group === ''
      ? `kubernetes-models/${version}`
      : group === 'keda.sh'
        ? `@kubernetes-models/keda/keda.sh/${version}`
        : group.endsWith('knative.dev')
          ? `@kubernetes-models/knative/${group}/${version}`
          : `kubernetes-models/${group}/${version}`;
  return { module: `${base}/${kind}`, iface: `I${kind}`, kind };
}

// 3a. the models' own validators
for (const d of documents) {
  const m = modelOf(d.value);
  let mod;
  try {
    mod = await import(m.module);
  } catch {
    fail(`${d.scenario} ${d.label}`, `no model for ${d.value.apiVersion} ${d.value.kind}`);
    continue;
  }
  try {
    new mod[m.kind](d.value).validate();
  } catch (err) {
    fail(`${d.scenario} ${d.label}`, err.message);
  }
}

// 3c. what the schemas cannot see: each container's volumeMounts name a volume of its pod
function podSpecs(v) {
  const t = v.spec?.jobTemplate?.spec?.template?.spec ?? v.spec?.template?.spec;
  return t ? [t] : [];
}
for (const d of documents) {
  for (const pod of podSpecs(d.value)) {
    const volumes = new Set((pod.volumes ?? []).map((x) => x.name));
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name)) fail(`${d.scenario} ${d.label}`, `container ${c.name} mounts volume '${m.name}' that the pod does not define`);
      }
    }
  }
}

// 3b. strict: TypeScript excess-property checks against the model interfaces
const ts = require('typescript');
const imports = new Map();
const lines = [];
const spans = [];
documents.forEach((d, i) => {
  const m = modelOf(d.value);
  if (!imports.has(m.module)) imports.set(m.module, `T${imports.size}`);
  const body = `// ${d.scenario}: ${d.label}\nexport const d${i}: ${imports.get(m.module)} = ${JSON.stringify(d.value, null, 2)};`.split('\n');
  spans.push({ start: lines.length + 1, end: lines.length + body.length, doc: d });
  lines.push(...body);
});
const header = [...imports].map(([mod, alias]) => `import type { I${mod.split('/').pop()} as ${alias} } from '${mod}';`);
const file = join(work, 'manifests.ts');
writeFileSync(file, [...header, ...lines].join('\n') + '\n');
const program = ts.createProgram([file], {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  types: [],
});
for (const diag of ts.getPreEmitDiagnostics(program)) {
  const text = ts.flattenDiagnosticMessageText(diag.messageText, ' ');
  if (!diag.file || diag.file.fileName !== file) {
    fail('typescript', text);
    continue;
  }
  const line = diag.file.getLineAndCharacterOfPosition(diag.start ?? 0).line + 1 - header.length;
  const span = spans.find((s) => line >= s.start && line <= s.end);
  const at = diag.file.text.slice(diag.start ?? 0, (diag.start ?? 0) + (diag.length ?? 0));
  fail(span ? `${span.doc.scenario} ${span.doc.label}` : `manifests.ts:${line}`, `${text}${at ? ` (at ${at})` : ''}`);
}

if (!process.argv.includes('--keep')) rmSync(join(work, 'manifests.ts'), { force: true });
const kinds = [...new Set(documents.map((d) => `${d.value.apiVersion} ${d.value.kind}`))].sort();
if (failures.length) {
  console.error(`chart:check FAILED (${failures.length}):\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  process.exit(1);
}
console.log(
  `chart:check: helm lint --strict ok for ${scenarios.length} value sets; ${documents.length} rendered documents valid and strict ` +
    `(${scenarios.map((s) => s.name).join(', ')}, keda/)\n  kinds: ${kinds.join('; ')}`,
);
