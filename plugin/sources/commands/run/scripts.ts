import { StreamReport, structUtils } from '@yarnpkg/core';
import { type Decision, formatLocation } from '../../../../policy';
import { lockfileChecks } from '../../engine/lockfile-checks';
import { runChecks } from '../../engine/run-checks';
import { approveCommand } from '../../gate/build-report';
import { yarnWouldBuild } from '../../gate/script-guard';
import { messageName, TollgateMessage } from '../../messages';
import { packageLabel } from '../../report';
import { type CommandProject, EXIT, openEngine, withProject } from '../command-support';
import type ScriptsCommand from '../scripts';

/** What Yarn itself does with a build, whatever Tollgate decides. */
function yarnSays(decision: Decision, builds: boolean): string {
  if (builds) return 'Yarn builds it';
  return `Yarn does not build it (enableScripts is false or dependenciesMeta["${decision.package.name}"].built is false; set dependenciesMeta["${decision.package.name}"].built: true to let it)`;
}

export async function execute(this: ScriptsCommand) {
  return withProject(this.context, this.cwd, (opened) => run.call(this, opened));
}

async function run(this: ScriptsCommand, { configuration, project, cache }: CommandProject): Promise<number> {
  let exit: number = EXIT.OK;
  await StreamReport.start(
    { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
    async (report) => {
      const ctx = await openEngine(configuration, report);
      if (!ctx) {
        exit = EXIT.USAGE;
        return;
      }
      try {
        const checks = await lockfileChecks(project, cache, {
          mode: 'lockfile',
          digests: ctx.archiveDigests,
        });
        const outcomes = await report.startTimerPromise(
          `Tollgate: checking ${checks.length} packages against ${ctx.policyFile}`,
          () => runChecks(ctx, checks),
        );
        const code = messageName(TollgateMessage.SCRIPTS);
        const seen = new Set<string>();
        let listed = 0;
        const unread: string[] = [];
        for (const { decision } of outcomes) {
          const scripts = decision.scripts;
          if (!scripts || !decision.package.locator) continue;
          const key = `${decision.package.name}@${decision.package.version}`;
          if (seen.has(key)) continue;
          seen.add(key);
          if (scripts.steps === undefined) {
            unread.push(key);
            continue;
          }
          if (scripts.steps.length === 0) continue;
          listed++;
          const builds = yarnWouldBuild(project, structUtils.parseLocator(decision.package.locator));
          const runs = scripts.verdict === 'run';
          const where = scripts.allowance
            ? ` (scripts.allow[${scripts.allowance.index}], ${formatLocation(scripts.allowance.location)})`
            : '';
          const lines = [
            `${runs ? '✓' : '✗'} ${packageLabel(decision)}: ${scripts.steps.join(', ')}`,
            `    signed by: ${scripts.signer ?? 'no verified signature'}`,
            `    Tollgate: ${runs ? 'may run' : `WITHHELD (${scripts.mode})`}: ${scripts.message}${where}`,
            ...(runs ? [] : [`    approve: ${approveCommand(decision)}`]),
            `    ${yarnSays(decision, builds)}`,
          ];
          for (const line of lines) report.reportInfo(code, line);
          report.reportJson({
            type: 'tollgate-build',
            package: decision.package,
            steps: scripts.steps,
            signer: scripts.signer ?? null,
            verdict: scripts.verdict,
            mode: scripts.mode,
            by: scripts.by,
            allowance: scripts.allowance ?? null,
            message: scripts.message,
            yarnBuilds: builds,
          });
          if (!runs && builds && scripts.mode === 'enforce') exit = EXIT.VIOLATIONS;
        }
        if (unread.length > 0) {
          report.reportWarning(
            code,
            `Tollgate: ${unread.length} package(s) are not in the cache, so their builds are unknown here (${unread.slice(0, 5).join(', ')}${unread.length > 5 ? ', ...' : ''}); run \`yarn install\` first`,
          );
        }
        report.reportInfo(
          messageName(TollgateMessage.INFO),
          `Tollgate: ${listed} package(s) with a build; scripts.default is ${ctx.policy.scripts.default}`,
        );
      } finally {
        await ctx.close();
      }
    },
  );
  return exit;
}
