/**
 * openapi.json against the JSON Schema 2020-12 meta-schema: OpenApi skips that check at
 * run time (it cost every cold start ~100 ms), so it is made here, for the shared
 * component schemas and every operation's parameter and body schemas.
 */
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { OpenApi, OPENAPI_DOCUMENT } from '../../../functions/mark-read/openapi';

const KEYWORDS = ['example', 'discriminator', 'xml', 'externalDocs'];

function metaValidator(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, validateSchema: true, keywords: KEYWORDS });
  addFormats(ajv);
  return ajv;
}

describe('openapi.json', () => {
  const api = new OpenApi();

  it('has component schemas that are valid JSON Schema 2020-12', () => {
    const doc = OPENAPI_DOCUMENT as { components: { schemas: Record<string, unknown> } };
    const ajv = metaValidator();
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      expect([name, ajv.validateSchema(schema as object), ajv.errorsText(ajv.errors)]).toEqual([name, true, 'No errors']);
    }
  });

  it.each(api.operations.map((op) => [op.operationId, op] as const))('%s has valid parameter and body schemas', (_id, op) => {
    const ajv = metaValidator();
    for (const schema of [...op.parameters.map((p) => p.schema), ...(op.body ? [op.body.schema] : [])]) {
      expect([ajv.validateSchema(schema), ajv.errorsText(ajv.errors)]).toEqual([true, 'No errors']);
    }
  });

  it('is rejected when a schema breaks the meta-schema', () => {
    expect(metaValidator().validateSchema({ type: 'object', required: 'id' })).toBe(false);
  });

  it('still compiles every operation in strict mode', () => {
    for (const op of api.operations) expect(() => api.validate(op.operationId)).not.toThrow();
  });
});
