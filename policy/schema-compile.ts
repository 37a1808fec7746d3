// The one ajv setup every schema is compiled with: ahead of time (schema/generate-validators.ts) or
// at run time, for the formats without a generated validator. Its own module, so that validating with
// a generated validator (schema-validation.ts) does not load ajv's compiler.
import Ajv, { type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

let ajv: Ajv | undefined;

/**
 * The one ajv setup every schema is compiled with, at run time or ahead of time
 * (schema/generate-validators.ts): verbose errors carry the schema the diagnostics read hints from.
 */
export function configuredAjv(options: Options = {}): Ajv {
  const configured = new Ajv({
    allErrors: true,
    verbose: true,
    strict: true,
    allowUnionTypes: true,
    ...options,
  });
  // Documentation keywords read by editors and by this module; not validation keywords.
  configured.addKeyword('x-expected');
  configured.addKeyword('x-refused');
  configured.addKeyword('markdownDescription');
  addFormats(configured, ['date', 'date-time']);
  return configured;
}

function sharedAjv(): Ajv {
  ajv ??= configuredAjv();
  return ajv;
}

export function compileSchema(schema: object): ValidateFunction {
  return sharedAjv().compile(schema);
}
