import { BaseCommand } from '@yarnpkg/cli';
import { Configuration, StreamReport } from '@yarnpkg/core';
import { Option } from 'clipanion';
import * as t from 'typanion';
import {
  AUDIT_FORMATS,
  type AuditFormat,
  changesJson,
  renderGithubChanges,
  renderSarif,
} from '../audit-formats';
import { ConfigurationProblem } from '../engine/context';
import { messageName, TollgateMessage } from '../messages';
import { type Review, reviewAgainst } from '../review/compare';
import { ReviewProblem } from '../review/git';
import { reportReview } from '../review/report';
import { readSettings } from '../settings';
import { EXIT } from './command-support';

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

  async execute() {
    const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
    const settings = readSettings(configuration);
    const format = this.format as AuditFormat;
    const machine = format !== 'text';
    let review: Review | undefined;
    let problem: string | undefined;
    await StreamReport.start(
      {
        configuration,
        stdout: machine ? process.stderr : this.context.stdout,
        json: this.json,
        includeFooter: false,
      },
      async (report) => {
        try {
          review = await reviewAgainst(settings, this.base);
        } catch (err) {
          if (!(err instanceof ReviewProblem || err instanceof ConfigurationProblem)) throw err;
          problem = [err.message, ...(err instanceof ConfigurationProblem ? err.details : [])].join('\n');
          report.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${err.message}`);
          if (err instanceof ConfigurationProblem)
            for (const line of err.details)
              report.reportError(messageName(TollgateMessage.POLICY_ERROR), line);
          return;
        }
        if (!machine) reportReview(report, { ...review, accepted: this.acceptRelaxations });
      },
    );
    const relaxed = review?.changes.some((c) => c.relaxation) ?? false;
    const exit =
      review === undefined ? EXIT.USAGE : relaxed && !this.acceptRelaxations ? EXIT.VIOLATIONS : EXIT.OK;
    const reviewed = review
      ? { ref: review.ref, changes: review.changes, accepted: this.acceptRelaxations }
      : undefined;
    if (format === 'sarif') {
      this.context.stdout.write(
        renderSarif(
          [],
          'yarn.lock',
          new Map(),
          { exitCode: exit, ...(problem ? { error: problem } : {}) },
          reviewed,
        ),
      );
    } else if (reviewed && format === 'json') {
      this.context.stdout.write(
        `${JSON.stringify({ format: 'tollgate.policy-diff/v1', commit: review!.commit, notes: review!.notes, ...changesJson(reviewed) }, null, 2)}\n`,
      );
    } else if (reviewed && format === 'github') {
      const lines = renderGithubChanges(reviewed);
      const n = reviewed.changes.filter((c) => c.relaxation).length;
      lines.push(
        `Tollgate policy diff against ${reviewed.ref}: ${n} relaxation(s)${n && reviewed.accepted ? ' (acknowledged)' : ''}`,
      );
      this.context.stdout.write(`${lines.join('\n')}\n`);
    }
    return exit;
  }
}
