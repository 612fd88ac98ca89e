/**
 * JSON-schema validation of request bodies and queries (ajv, compiled once). A
 * failure is INVALID_ARGUMENT naming the offending path, and nothing runs after it.
 */
import Ajv, { type JSONSchemaType, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { ImError } from '../errors';

export const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: true });
addFormats(ajv);

export function compile<T>(schema: JSONSchemaType<T> | object): (value: unknown) => T {
  const validate = ajv.compile(schema) as ValidateFunction<T>;
  return (value: unknown): T => {
    if (validate(value)) return value;
    const e = validate.errors?.[0];
    const where = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'body';
    throw new ImError('INVALID_ARGUMENT', `${where} ${e?.message ?? 'is invalid'}`, { details: { field: where } });
  };
}
