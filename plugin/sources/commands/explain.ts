import { BaseCommand } from '@yarnpkg/cli';
import { StreamReport } from '@yarnpkg/core';
import { Option } from 'clipanion';
import {
  allowedRegistries,
  describeLayers,
  formatLocation,
  renderDecisionText,
  selectRule,
} from '../../../policy';
import { closestMatch } from '../../../policy/suggest';
import { knownBadReport } from '../engine/known-bad';
import { lockfileChecks } from '../engine/lockfile-checks';
import { runChecks } from '../engine/run-checks';
import { trustReport } from '../engine/trust-roots';
import { messageName, TollgateMessage } from '../messages';
import { type CommandProject, EXIT, openEngine, withProject } from './command-support';
import { lockfileNames, parsePackageQuery, selectChecks } from './package-selection';

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

  async execute() {
    return withProject(this.context, this.cwd, (opened) => this.run(opened));
  }

  private async run({ configuration, project, cache }: CommandProject): Promise<number> {
    let exit: number = EXIT.OK;
    await StreamReport.start(
      { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
      async (report) => {
        const code = messageName(TollgateMessage.INFO);
        const query = parsePackageQuery(this.query);
        if (!query) {
          report.reportError(
            messageName(TollgateMessage.POLICY_ERROR),
            `Tollgate: "${this.query}" is not a package name with an optional semver range (e.g. acme-utils or @acme/ui@^2)`,
          );
          exit = EXIT.USAGE;
          return;
        }
        const ctx = await openEngine(configuration, report, { offline: this.offline });
        if (!ctx) {
          exit = EXIT.USAGE;
          return;
        }
        try {
          const all = await lockfileChecks(project, cache, { mode: 'lockfile', digests: ctx.archiveDigests });
          const checks = selectChecks(all, query);
          if (checks.length === 0) {
            const installed = all.filter((c) => c.classified.name === query.name);
            if (installed.length > 0) {
              const versions = installed.map(
                (c) => c.classified.version ?? c.classified.base?.version ?? '?',
              );
              report.reportError(
                messageName(TollgateMessage.POLICY_ERROR),
                `Tollgate: no installed version of ${query.name} matches ${query.range}; yarn.lock has ${[...new Set(versions)].sort().join(', ')}`,
              );
              exit = EXIT.USAGE;
              return;
            }
            const selection = selectRule(ctx.policy, query.name, '0.0.0');
            const binding = allowedRegistries(ctx.policy, query.name);
            const names = lockfileNames(project);
            const typo = closestMatch(query.name, names);
            const near = [
              ...new Set([
                ...(typo ? [typo] : []),
                ...names.filter((n) => n.includes(query.name.replace(/^@[^/]+\//, ''))),
              ]),
            ];
            report.reportError(
              messageName(TollgateMessage.POLICY_ERROR),
              `Tollgate: ${this.query} is not in yarn.lock${near.length ? ` (did you mean ${near.slice(0, 5).join(', ')}?)` : ''}`,
            );
            report.reportInfo(
              code,
              `If it were installed, ${selection.rule.id} (${formatLocation(selection.rule.location)}) would decide: requires ${selection.rule.requirements.require}${binding ? `, only from ${binding.registries.join(', ')}` : ''}`,
            );
            exit = EXIT.USAGE;
            return;
          }
          const outcomes = await runChecks(ctx, checks);
          for (const { decision } of outcomes) {
            report.reportJson({ type: 'tollgate-decision', ...decision });
            for (const line of renderDecisionText(decision).split('\n')) report.reportInfo(code, line);
            report.reportSeparator();
          }
          // Which file each rule above came from, when the policy extends organisation bases.
          for (const line of describeLayers(ctx.policy)) report.reportInfo(code, line);
          for (const { level, line } of knownBadReport(ctx.knownBad, ctx.policy)) {
            if (level === 'warning') report.reportWarning(messageName(TollgateMessage.KNOWN_BAD), line);
            else report.reportInfo(messageName(TollgateMessage.KNOWN_BAD), line);
          }
          for (const { level, line } of trustReport(ctx.trustRoots)) {
            if (level === 'warning') report.reportWarning(messageName(TollgateMessage.TRUST), line);
            else report.reportInfo(messageName(TollgateMessage.TRUST), line);
          }
          for (const u of ctx.unreachableSources) {
            report.reportWarning(
              messageName(TollgateMessage.ROOT_CAUSE),
              `Tollgate: ${u.source} did not answer (${u.cause}); fix ${u.setting}`,
            );
          }
          if (outcomes.some((o) => o.decision.verdict === 'deny')) exit = EXIT.VIOLATIONS;
        } finally {
          await ctx.close();
        }
      },
    );
    return exit;
  }
}
