import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

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

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/policy-schema');
    return execute.call(this);
  }
}
