// `ScriptsApproveCommand`'s implementation, loaded when the command runs (../scripts-approve.ts declares it).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { StreamReport } from '@yarnpkg/core';
import { formatDiagnostic, loadPolicyTree } from '../../../../policy';
import { lockfileChecks } from '../../engine/lockfile-checks';
import { policyBaseResolver } from '../../engine/policy-bases';
import { runChecks } from '../../engine/run-checks';
import { messageName, TollgateMessage } from '../../messages';
import { type AllowanceEntry, addAllowances, allowanceYaml, planApproval } from '../../script-approvals';
import { type CommandProject, EXIT, openEngine, withProject } from '../command-support';
import { parsePackageQuery, selectChecks } from '../package-selection';
import type ScriptsApproveCommand from '../scripts-approve';

export async function execute(this: ScriptsApproveCommand) {
  return withProject(this.context, this.cwd, (opened) => run.call(this, opened));
}

async function confirm(this: ScriptsApproveCommand): Promise<boolean> {
  const stdin = this.context.stdin as NodeJS.ReadStream;
  if (this.yes || this.json || !stdin.isTTY) return true;
  const rl = createInterface({ input: stdin, output: this.context.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question('Write this to the policy? [y/N] ')).trim());
  } finally {
    rl.close();
  }
}

async function run(
  this: ScriptsApproveCommand,
  { configuration, project, cache }: CommandProject,
): Promise<number> {
  let exit: number = EXIT.OK;
  let pending: { path: string; text: string; display: string } | null = null;
  await StreamReport.start(
    { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
    async (report) => {
      const error = (text: string, code: number) => {
        report.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${text}`);
        exit = code;
      };
      const query = parsePackageQuery(this.query);
      if (!query) return error(`"${this.query}" is not a package name with an optional version`, EXIT.USAGE);
      if (this.reason.trim().length < 3) return error('--reason must say why its code may run', EXIT.USAGE);
      const ctx = await openEngine(configuration, report);
      if (!ctx) {
        exit = EXIT.USAGE;
        return;
      }
      try {
        const checks = selectChecks(
          await lockfileChecks(project, cache, { mode: 'lockfile', digests: ctx.archiveDigests }),
          query,
        );
        if (checks.length === 0) return error(`${this.query} is not in yarn.lock`, EXIT.USAGE);
        const outcomes = await runChecks(ctx, checks);
        const entries: AllowanceEntry[] = [];
        const seen = new Set<string>();
        for (const { decision } of outcomes) {
          const label = `${decision.package.name}@${decision.package.version}`;
          if (seen.has(label)) continue;
          seen.add(label);
          const scripts = decision.scripts;
          if (decision.verdict === 'deny') {
            error(
              `${label} is denied by the policy, so its scripts cannot run whatever is approved; see \`yarn tollgate explain ${decision.package.name}\``,
              EXIT.VIOLATIONS,
            );
            continue;
          }
          if (scripts?.steps === undefined) {
            error(
              `${label} is not in the cache, so its build is unknown here; run \`yarn install\` first`,
              EXIT.USAGE,
            );
            continue;
          }
          if (scripts.steps.length === 0) {
            report.reportInfo(
              messageName(TollgateMessage.INFO),
              `${label} has no install scripts: nothing to approve`,
            );
            continue;
          }
          if (scripts.verdict === 'run' && scripts.by !== 'default' && scripts.by !== 'off') {
            report.reportInfo(
              messageName(TollgateMessage.INFO),
              `${label}: its ${scripts.steps.join(', ')} may already run: ${scripts.message}`,
            );
            continue;
          }
          const plan = planApproval(decision, { digest: this.digest, reason: this.reason.trim() });
          if (!plan.ok) {
            error(plan.problem, EXIT.USAGE);
            continue;
          }
          const duplicate = entries.some((e) => JSON.stringify(e) === JSON.stringify(plan.entry));
          if (!duplicate) entries.push(plan.entry);
          report.reportInfo(
            messageName(TollgateMessage.INFO),
            `${label} (${scripts.steps.join(', ')}): approving ${plan.describe}`,
          );
        }
        if (entries.length === 0) return;
        const display =
          relative(ctx.settings.projectCwd, ctx.settings.policyPath!) || ctx.settings.policyPath!;
        for (const entry of entries) {
          report.reportJson({ type: 'tollgate-script-allowance', allowance: entry });
          report.reportInfo(messageName(TollgateMessage.INFO), `under scripts.allow in ${display}:`);
          for (const line of allowanceYaml(entry).trimEnd().split('\n'))
            report.reportInfo(messageName(TollgateMessage.INFO), `  ${line}`);
        }
        const text = addAllowances(readFileSync(ctx.settings.policyPath!, 'utf8'), entries);
        const policyPath = ctx.settings.policyPath!;
        const check = loadPolicyTree(text, display, policyBaseResolver(ctx.settings), {
          dir: dirname(policyPath),
          key: policyPath,
        });
        const refusedByBase = check.ok ? [] : check.errors.filter((e) => e.code === 'extends-relaxes');
        if (refusedByBase.length) {
          return error(
            `the base policy does not permit this approval in ${display} (nothing was written): ${refusedByBase.map(formatDiagnostic).join('; ')}`,
            EXIT.USAGE,
          );
        }
        if (!check.ok) {
          return error(
            `the approval does not validate (a bug; nothing was written): ${check.errors.map((e) => e.message).join('; ')}`,
            EXIT.USAGE,
          );
        }
        pending = { path: ctx.settings.policyPath!, text, display };
      } finally {
        await ctx.close();
      }
    },
  );
  if (pending === null) return exit;
  const { path, text, display } = pending;
  if (!(await confirm.call(this))) {
    this.context.stdout.write('Nothing was written.\n');
    return EXIT.USAGE;
  }
  writeFileSync(path, text);
  this.context.stdout.write(`Tollgate: wrote the approval to ${display}; commit it with the change\n`);
  return exit;
}
