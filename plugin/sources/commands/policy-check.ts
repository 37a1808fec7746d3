import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

// `yarn tollgate policy check [file]`: validation and lint for editors and pre-commit hooks.
export default class PolicyCheckCommand extends BaseCommand {
  static override paths = [['tollgate', 'policy', 'check']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'validate and lint the policy file',
    details: `
      Validates the policy against its JSON Schema and lints it (unanchored patterns, shadowed rules, expired exceptions, ...). Every problem is located as file:line:column with the field, what was expected and a suggestion.

      Exit codes: 0 valid (warnings allowed), 2 invalid or unreadable (an invalid policy is a configuration error for every command).
    `,
    examples: [
      ['Check the configured policy', 'yarn tollgate policy check'],
      ['Check another file', 'yarn tollgate policy check ./candidate.tollgate.yml'],
    ],
  });

  file = Option.String({ required: false, name: 'file' });

  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/policy-check');
    return execute.call(this);
  }
}
