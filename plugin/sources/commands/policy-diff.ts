import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';
import * as t from 'typanion';
import { AUDIT_FORMATS } from '../audit-formats';

// `yarn tollgate policy diff [--base <ref>]`: every relaxation of the policy, pins, exceptions and
// Tollgate-relevant Yarn settings against a git ref, each its own finding.
export default class PolicyDiffCommand extends BaseCommand {
  static override paths = [['tollgate', 'policy', 'diff']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'list every relaxation of the policy and Yarn settings against a git ref',
    details: `
      Compares the working tree with a git ref (\`--base\`, default \`HEAD\`), read with git from the repository: the policy (merged with the bases it extends), its pins, the contents of its trust roots, the Tollgate-relevant settings of \`.yarnrc.yml\` (enableScripts, npmMinimalAgeGate, approvedGitRepositories, checksumBehavior, tollgateMode, the plugin entry and its bundle, other plugins, yarnPath, registries, TLS and proxies) — and reports every relaxation as its own finding with a stable code: a new or widened exception, a wider package glob, a lower \`require\`, a shorter \`minReleaseAge\`, a removed rule or registry binding, a widened signer, a new trust root, continuity off, a lower mode, a looser \`scripts\` section, a removed base policy. Tightenings are listed and never fail.

      Exit codes: 0 no relaxation (or every relaxation acknowledged with \`--accept-relaxations\`), 1 at least one unacknowledged relaxation, 2 usage or configuration error (not a git repository, an unknown ref, an invalid policy).
    `,
    examples: [
      ['Before committing: what does my change relax?', 'yarn tollgate policy diff'],
      ['In a pull request', 'yarn tollgate policy diff --base origin/main --format github'],
      [
        'After review, in CI (e.g. when a reviewer labelled the PR)',
        'yarn tollgate policy diff --base origin/main --accept-relaxations',
      ],
    ],
  });

  base = Option.String('--base', 'HEAD', { description: 'The git ref to compare with (default HEAD)' });

  acceptRelaxations = Option.Boolean('--accept-relaxations', false, {
    description: 'The relaxations were reviewed: report them as warnings and exit 0',
  });

  format = Option.String('--format', 'text', {
    description: 'Output format: text, json, sarif or github',
    validator: t.isEnum(AUDIT_FORMATS),
  });

  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/policy-diff');
    return execute.call(this);
  }
}
