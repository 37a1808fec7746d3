import { StreamReport } from '@yarnpkg/core';
import {
  allowedRegistries,
  describeLayers,
  formatLocation,
  renderDecisionText,
  selectRule,
} from '../../../../policy';
import { closestMatch } from '../../../../policy/suggest';
import { knownBadReport } from '../../engine/known-bad';
import { lockfileChecks } from '../../engine/lockfile-checks';
import { runChecks } from '../../engine/run-checks';
import { trustReport } from '../../engine/trust-roots';
import { messageName, TollgateMessage } from '../../messages';
import { type CommandProject, EXIT, openEngine, withProject } from '../command-support';
import type ExplainCommand from '../explain';
import { lockfileNames, parsePackageQuery, selectChecks } from '../package-selection';

export async function execute(this: ExplainCommand) {
  return withProject(this.context, this.cwd, (opened) => run.call(this, opened));
}

async function run(this: ExplainCommand, { configuration, project, cache }: CommandProject): Promise<number> {
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
            const versions = installed.map((c) => c.classified.version ?? c.classified.base?.version ?? '?');
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
