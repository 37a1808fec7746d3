import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

// `yarn tollgate explain <package>[@range]`: the whole decision for one package, as the gate makes it.
export default class ExplainCommand extends BaseCommand {
  static override paths = [['tollgate', 'explain']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'explain why a package is allowed, warned or denied',
    details: `
      Checks the matching yarn.lock entries exactly as the install gate does and prints the whole decision: the rule that decided (file:line:column) and why it won, the registry binding, the evidence found and where it came from, the verified signer identity and its claims, the trust root, the release time, pins and exceptions that applied, and how to fix a violation.

      Exit codes: 0 every matching package is allowed (or only warned), 1 one is denied, 2 the package is not in yarn.lock, the range matches no installed version, or the input or configuration is invalid.
    `,
    examples: [
      ['Explain a package', 'yarn tollgate explain acme-utils'],
      ['Explain one version range of a scoped package', 'yarn tollgate explain @acme/ui@^2'],
      ['Machine-readable', 'yarn tollgate explain acme-utils --json'],
    ],
  });

  query = Option.String({ name: 'package' });

  offline = Option.Boolean('--offline', false, { description: 'Use only the evidence file and caches' });

  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/explain');
    return execute.call(this);
  }
}
