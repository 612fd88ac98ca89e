/**
 * JSON-schema validation of request bodies and queries (ajv, each schema compiled once,
 * at its first use: compiling at import cost mark-read ~50 ms of every cold start for
 * validators its first requests seldom need, mostly for ajv's draft-07 meta-schema). A
 * failure is INVALID_ARGUMENT naming the offending path, and nothing runs after it.
 */
import Ajv, { type JSONSchemaType, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { ImError } from '../errors';

let shared: Ajv | undefined;
function ajv(): Ajv {
  if (!shared) {
    shared = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: true });
    addFormats(shared);
  }
  return shared;
}

export function compile<T>(schema: JSONSchemaType<T> | object): (value: unknown) => T {
  let compiled: ValidateFunction<T> | undefined;
  return (value: unknown): T => {
    const validate = (compiled ??= ajv().compile(schema) as ValidateFunction<T>);
    if (validate(value)) return value;
    const e = validate.errors?.[0];
    const where = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'body';
    throw new ImError('INVALID_ARGUMENT', `${where} ${e?.message ?? 'is invalid'}`, { details: { field: where } });
  };
}
