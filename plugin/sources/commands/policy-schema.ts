import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BaseCommand } from '@yarnpkg/cli';
import { npath } from '@yarnpkg/fslib';
import { Option } from 'clipanion';
import policySchema from '../../../policy/schema/tollgate-policy.schema.json';

// `yarn tollgate policy schema`: the policy's JSON Schema, for editors and other tools.
export default class PolicySchemaCommand extends BaseCommand {
  static override paths = [['tollgate', 'policy', 'schema']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: "print or write the policy's JSON Schema",
    details: `
      The JSON Schema every policy is validated against, for editors that complete from it (\`# yaml-language-server: $schema=<path>\` at the top of \`.tollgate.yml\`). \`yarn tollgate init\` writes it to \`.tollgate/tollgate-policy.schema.json\`. Exit code 0.
    `,
    examples: [
      ['Print it', 'yarn tollgate policy schema'],
      ['Refresh the copy init wrote', 'yarn tollgate policy schema -o .tollgate/tollgate-policy.schema.json'],
    ],
  });

  output = Option.String('-o,--output', { description: 'Write it to this file instead of stdout' });

  async execute() {
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
}
