import { BaseCommand } from '@yarnpkg/cli';

// `yarn tollgate policy reference`: the policy reference shipped with this version of the plugin.
export default class PolicyReferenceCommand extends BaseCommand {
  static override paths = [['tollgate', 'policy', 'reference']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'print the policy reference (every key, precedence, violation codes)',
    details: `
      Prints the reference of \`.tollgate.yml\` that matches this plugin's version, as Markdown. Exit code 0.
    `,
    examples: [['Read the reference', 'yarn tollgate policy reference | less']],
  });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/policy-reference');
    return execute.call(this);
  }
}
