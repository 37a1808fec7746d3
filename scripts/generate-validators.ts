// `npm run generate`: writes the ahead-of-time schema validators (policy/schema/generate-validators.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { declaration, generatedValidators, validatorSource } from '../policy/schema/generate-validators';

const dir = join(import.meta.dirname, '../policy/schema/generated');
mkdirSync(dir, { recursive: true });
for (const { schema, file } of generatedValidators) {
  writeFileSync(join(dir, file), validatorSource(schema));
  writeFileSync(join(dir, file.replace(/\.cjs$/, '.d.cts')), declaration);
  console.log(`generate: policy/schema/generated/${file}`);
}
