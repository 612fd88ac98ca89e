/**
 * The OpenAPI document (openapi.json) as the one schema source of the HTTP API: it is
 * served as-is at /api/v1/openapi.json, and the same schemas validate every request's
 * path parameters, query and JSON body (ajv, JSON Schema 2020-12 — the dialect of
 * OpenAPI 3.1) before a handler runs. Tests use it to check responses and to derive
 * the fuzzer's inputs, so the document cannot drift from the behaviour.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { RequestHandler, Response } from 'express';
import { ImError } from '../../shared/errors';
import document from './openapi.json';

export const OPENAPI_DOCUMENT: unknown = document;

export type JsonSchema = Record<string, unknown>;

export interface ParameterSpec {
  readonly name: string;
  readonly in: 'path' | 'query';
  readonly required: boolean;
  readonly schema: JsonSchema;
}

export interface OperationSpec {
  readonly operationId: string;
  readonly method: 'get' | 'post' | 'delete' | 'put' | 'patch';
  /** OpenAPI path template, e.g. `/api/v1/messages/{msg_id}`. */
  readonly path: string;
  readonly parameters: readonly ParameterSpec[];
  readonly body: { readonly required: boolean; readonly schema: JsonSchema } | undefined;
  readonly secured: boolean;
  /** Status → response schema (JSON responses only). */
  readonly responses: Readonly<Record<string, JsonSchema | undefined>>;
}

/** What a request looks like after validation (coerced query, defaults applied). */
export interface RequestInput<P = Record<string, unknown>, Q = Record<string, unknown>, B = unknown> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
}

const SCHEMAS_ID = 'https://im-functions.local/openapi/schemas';
const METHODS = ['get', 'post', 'delete', 'put', 'patch'] as const;

interface Validators {
  params: ValidateFunction;
  query: ValidateFunction;
  body: ValidateFunction | undefined;
}

export class OpenApi {
  readonly operations: readonly OperationSpec[];
  readonly #byId = new Map<string, OperationSpec>();
  readonly #validators = new Map<string, Validators>();
  readonly #responses = new Map<string, ValidateFunction>();
  /** Path and query values arrive as strings: coerce to the declared types. */
  readonly #coercing: Ajv2020;
  /** JSON bodies already carry types: no coercion, a string is not a number. */
  readonly #exact: Ajv2020;

  constructor(readonly doc: unknown = OPENAPI_DOCUMENT) {
    const root = asObject(doc, 'document');
    const schemas = asObject(asObject(root['components'], 'components')['schemas'], 'components.schemas');
    const defs = { $id: SCHEMAS_ID, $defs: rewriteRefs(schemas) };
    this.#coercing = newAjv(true);
    this.#exact = newAjv(false);
    this.#coercing.addSchema(defs);
    this.#exact.addSchema(defs);
    this.operations = readOperations(root);
    for (const op of this.operations) this.#byId.set(op.operationId, op);
  }

  operation(operationId: string): OperationSpec {
    const op = this.#byId.get(operationId);
    if (!op) throw new Error(`no operation ${operationId} in openapi.json`);
    return op;
  }

  /**
   * Express middleware validating a request against its operation; on success the
   * typed input is in `res.locals.input` (read it with `inputOf`).
   */
  validate(operationId: string): RequestHandler {
    this.operation(operationId);
    return (req, res, next) => {
      res.locals['input'] = this.input(operationId, { params: req.params, query: req.query, body: req.body });
      next();
    };
  }

  /**
   * Validates one request's parts (path parameters and query as parsed strings, the
   * parsed JSON body or undefined) against its operation: the typed input, or
   * INVALID_ARGUMENT naming the first offending field.
   */
  input(operationId: string, raw: { params: object; query: object; body: unknown }): RequestInput {
    const op = this.operation(operationId);
    // Compiled at the operation's first request: compiling all of them at start was
    // most of the rest of mark-read's cold start (every operation compiling is tested).
    const v = this.#compiled(operationId);
    const params: Record<string, unknown> = { ...(raw.params as Record<string, unknown>) };
    const query: Record<string, unknown> = { ...(raw.query as Record<string, unknown>) };
    check(v.params, params, 'path');
    check(v.query, query, 'query');
    let body: unknown = raw.body;
    if (op.body) {
      if (body === undefined) {
        if (op.body.required) {
          throw new ImError('INVALID_ARGUMENT', 'a JSON body (Content-Type: application/json) is required', {
            details: { field: 'body' },
          });
        }
        body = {};
      }
      check(v.body as ValidateFunction, body, 'body');
    }
    return { params, query, body };
  }

  /** Validates a response body against the document (tests). Returns error text or undefined. */
  checkResponse(operationId: string, status: number, body: unknown): string | undefined {
    const key = `${operationId} ${status}`;
    let fn = this.#responses.get(key);
    if (!fn) {
      const schema = this.operation(operationId).responses[String(status)];
      if (!schema) return `no ${status} response declared for ${operationId}`;
      fn = this.#exact.compile(schema);
      this.#responses.set(key, fn);
    }
    return fn(body) ? undefined : this.#exact.errorsText(fn.errors);
  }

  /** Resolves a schema's `$ref`s against the document's components (the fuzzer walks it). */
  resolve(schema: JsonSchema): JsonSchema {
    const ref = schema['$ref'];
    if (typeof ref !== 'string') return schema;
    const name = ref.slice(`${SCHEMAS_ID}#/$defs/`.length);
    const schemas = asObject(asObject(asObject(this.doc, 'document')['components'], 'c')['schemas'], 's');
    const target = rewriteRefs(asObject(schemas[name], ref));
    const { $ref: _ignored, ...siblings } = schema;
    return this.resolve({ ...target, ...siblings });
  }

  #compiled(operationId: string): Validators {
    let v = this.#validators.get(operationId);
    if (v) return v;
    const op = this.operation(operationId);
    const objectOf = (where: 'path' | 'query'): JsonSchema => {
      const ps = op.parameters.filter((p) => p.in === where);
      return {
        type: 'object',
        properties: Object.fromEntries(ps.map((p) => [p.name, p.schema])),
        required: ps.filter((p) => p.required).map((p) => p.name),
        additionalProperties: false,
      };
    };
    v = {
      params: this.#coercing.compile(objectOf('path')),
      query: this.#coercing.compile(objectOf('query')),
      body: op.body ? this.#exact.compile(op.body.schema) : undefined,
    };
    this.#validators.set(operationId, v);
    return v;
  }
}

/** The validated input of the current request (set by `OpenApi.validate`). */
export function inputOf<P, Q, B>(res: Response): RequestInput<P, Q, B> {
  const input = res.locals['input'] as RequestInput<P, Q, B> | undefined;
  if (!input) throw new ImError('INTERNAL', 'request was not validated');
  return input;
}

function newAjv(coerce: boolean): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: false,
    coerceTypes: coerce,
    useDefaults: true,
    removeAdditional: false,
    strict: true,
    // Checking every schema against the 2020-12 meta-schema compiled that meta-schema
    // in both instances at each cold start (~100 ms of mark-read's start); the document
    // is fixed at build time, so test/functions/mark-read/openapi-document.test.ts
    // checks it once. Strict mode still rejects unknown keywords when compiling.
    validateSchema: false,
    // OpenAPI's 3.1 dialect adds these annotation keywords to JSON Schema.
    keywords: ['example', 'discriminator', 'xml', 'externalDocs'],
  });
  addFormats(ajv);
  return ajv;
}

function check(fn: ValidateFunction, value: unknown, where: 'path' | 'query' | 'body'): void {
  if (fn(value)) return;
  const e = fn.errors?.[0];
  const { field, message } = describe(e, where);
  throw new ImError('INVALID_ARGUMENT', `${field} ${message}`, { details: { field } });
}

function describe(e: ErrorObject | undefined, where: string): { field: string; message: string } {
  const path = (e?.instancePath ?? '').split('/').slice(1).join('.');
  const base = path ? `${where}.${path}` : where;
  const p = (e?.params ?? {}) as Record<string, unknown>;
  if (e?.keyword === 'required') return { field: `${base}.${String(p['missingProperty'])}`, message: 'is required' };
  if (e?.keyword === 'additionalProperties') {
    return { field: `${base}.${String(p['additionalProperty'])}`, message: 'is not allowed' };
  }
  return { field: base, message: e?.message ?? 'is invalid' };
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`openapi.json: ${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

/** `#/components/schemas/X` → a ref into the schemas registered with ajv under SCHEMAS_ID. */
function rewriteRefs<T>(value: T): T {
  if (Array.isArray(value)) return value.map(rewriteRefs) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] =
      k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
        ? `${SCHEMAS_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`
        : rewriteRefs(v);
  }
  return out as T;
}

function readOperations(root: Record<string, unknown>): OperationSpec[] {
  const components = asObject(root['components'], 'components');
  const deref = (obj: Record<string, unknown>, section: string): Record<string, unknown> => {
    const ref = obj['$ref'];
    if (typeof ref !== 'string') return obj;
    const prefix = `#/components/${section}/`;
    if (!ref.startsWith(prefix)) throw new Error(`openapi.json: unsupported $ref ${ref}`);
    return asObject(asObject(components[section], section)[ref.slice(prefix.length)], ref);
  };
  const jsonSchemaOf = (content: unknown): JsonSchema | undefined => {
    if (content === undefined) return undefined;
    const json = asObject(content, 'content')['application/json'];
    return json === undefined ? undefined : rewriteRefs(asObject(asObject(json, 'media')['schema'], 'schema'));
  };
  const globalSecured = Array.isArray(root['security']) && root['security'].length > 0;
  const ops: OperationSpec[] = [];
  for (const [path, item] of Object.entries(asObject(root['paths'], 'paths'))) {
    for (const method of METHODS) {
      const raw = asObject(item, path)[method];
      if (raw === undefined) continue;
      const op = asObject(raw, `${method} ${path}`);
      const parameters = ((op['parameters'] as unknown[] | undefined) ?? []).map((p): ParameterSpec => {
        const param = deref(asObject(p, 'parameter'), 'parameters');
        const location = param['in'];
        if (location !== 'path' && location !== 'query') throw new Error(`openapi.json: parameter in ${String(location)}`);
        return {
          name: String(param['name']),
          in: location,
          required: param['required'] === true,
          schema: rewriteRefs(asObject(param['schema'], 'parameter schema')),
        };
      });
      const rb = op['requestBody'] === undefined ? undefined : asObject(op['requestBody'], 'requestBody');
      const bodySchema = rb ? jsonSchemaOf(rb['content']) : undefined;
      const responses: Record<string, JsonSchema | undefined> = {};
      for (const [status, r] of Object.entries(asObject(op['responses'], 'responses'))) {
        responses[status] = jsonSchemaOf(deref(asObject(r, 'response'), 'responses')['content']);
      }
      ops.push({
        operationId: String(op['operationId']),
        method,
        path,
        parameters,
        body: bodySchema ? { required: rb?.['required'] === true, schema: bodySchema } : undefined,
        secured: Array.isArray(op['security']) ? op['security'].length > 0 : globalSecured,
        responses,
      });
    }
  }
  return ops;
}
