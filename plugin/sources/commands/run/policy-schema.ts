// `PolicySchemaCommand`'s implementation, loaded when the command runs (../policy-schema.ts declares it).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { npath } from '@yarnpkg/fslib';
import policySchema from '../../../../policy/schema/tollgate-policy.schema.json';
import type PolicySchemaCommand from '../policy-schema';

export async function execute(this: PolicySchemaCommand) {
  const text = `${JSON.stringify(policySchema, null, 2)}\n`;
  if (!this.output) {
    this.context.stdout.write(text);
    return 0;
  }
  const path = resolve(npath.fromPortablePath(this.context.cwd), this.output);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  this.context.stdout.write(`wrote ${path}\n`);
  return 0;
}
