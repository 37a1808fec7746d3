// The validators compiled ahead of time are exactly what the schemas compile to now (a schema edited
// without `npm run generate` fails here), and they answer as a validator compiled at run time does,
// errors included (the diagnostics are built from those errors).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { declaration, generatedValidators, validatorSource } from '../../policy/schema/generate-validators';
import validatePins from '../../policy/schema/generated/validate-pins.cjs';
import validatePolicy from '../../policy/schema/generated/validate-policy.cjs';
import { compileSchema } from '../../policy/schema-compile';
import { repoRoot } from '../harness/paths';

const generated = join(repoRoot, 'policy/schema/generated');

describe('generated schema validators', () => {
  for (const { schema, file } of generatedValidators) {
    test(`${file} is what its schema compiles to (else run \`npm run generate\`)`, () => {
      assert.equal(readFileSync(join(generated, file), 'utf8'), validatorSource(schema));
      assert.equal(readFileSync(join(generated, file.replace(/\.cjs$/, '.d.cts')), 'utf8'), declaration);
    });
  }

  test('they answer as run-time compiled validators do, errors and all', () => {
    const [policy, pins] = generatedValidators;
    const cases: Array<[typeof validatePolicy, object, unknown[]]> = [
      [
        validatePolicy,
        policy.schema,
        [
          { version: 1 },
          {
            version: 1,
            mode: 'enforce',
            rules: [{ name: 'r', packages: ['@acme/*'], require: 'signature' }],
          },
          { version: 2, mode: 'enforced', rules: [{ packages: 'x', requre: 'none' }], extra: true },
          { version: 1, defaults: { require: 'provenance', maxAge: 'soon' }, exceptions: [{ package: 1 }] },
          'not a mapping',
          null,
        ],
      ],
      [validatePins, pins.schema, [{}, { version: 1, pins: {} }, { version: 'one', pins: [] }, []]],
    ];
    for (const [ahead, schema, inputs] of cases) {
      const now = compileSchema(schema);
      for (const input of inputs) {
        assert.equal(ahead(input), now(input), JSON.stringify(input));
        assert.deepEqual(ahead.errors ?? null, now.errors ?? null, JSON.stringify(input));
      }
    }
  });
});
