import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { BaseCommand } from '@yarnpkg/cli';
import { StreamReport } from '@yarnpkg/core';
import { Option } from 'clipanion';
import { formatDiagnostic, loadPolicyTree } from '../../../policy';
import { lockfileChecks } from '../engine/lockfile-checks';
import { policyBaseResolver } from '../engine/policy-bases';
import { runChecks } from '../engine/run-checks';
import { messageName, TollgateMessage } from '../messages';
import { type AllowanceEntry, addAllowances, allowanceYaml, planApproval } from '../script-approvals';
import { type CommandProject, EXIT, openEngine, withProject } from './command-support';
import { parsePackageQuery, selectChecks } from './package-selection';

// `yarn tollgate scripts approve <package> --reason "..."`: let a package's build run, bound to who signs it.
export default class ScriptsApproveCommand extends BaseCommand {
  static override paths = [['tollgate', 'scripts', 'approve']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: "approve a package's install scripts, bound to the identity that signs it now",
    details: `
      Checks the package's yarn.lock entries as the gate does and writes an allowance to the policy's \`scripts.allow\`, bound to the verified identity that signs it now (a CI identity by its repository, ids, workflow and ref kind; a person by issuer and subject). Later versions signed by the same identity run their scripts with no new approval; a version signed by anyone else, or unsigned, does not. The allowance is shown before it is written; on a terminal you are asked to confirm (\`--yes\` skips that).

      A package that carries no verified signature has no identity to approve: \`--digest\` approves exactly its tarball instead (every new version then needs a new approval). Packages from git, exec, file or http sources are approved by their source.

      Exit codes: 0 written (or already approved), 1 the package is denied by the policy, so approving its scripts would change nothing, 2 usage or configuration error, or nothing that could be approved.
    `,
    examples: [
      [
        'Approve esbuild for the identity that publishes it',
        'yarn tollgate scripts approve esbuild --reason "downloads its platform binary; reviewed"',
      ],
      [
        'Approve one unsigned tarball',
        'yarn tollgate scripts approve legacy-native --digest --reason "SEC-118: reviewed"',
      ],
    ],
  });

  query = Option.String({ name: 'package' });
  reason = Option.String('--reason', { required: true, description: 'Why its code may run (recorded)' });
  digest = Option.Boolean('--digest', false, {
    description: 'Approve exactly this tarball, not who signs it',
  });
  yes = Option.Boolean('--yes', false, { description: 'Write without asking for confirmation' });
  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute() {
    return withProject(this.context, this.cwd, (opened) => this.run(opened));
  }

  private async confirm(): Promise<boolean> {
    const stdin = this.context.stdin as NodeJS.ReadStream;
    if (this.yes || this.json || !stdin.isTTY) return true;
    const rl = createInterface({ input: stdin, output: this.context.stdout });
    try {
      return /^y(es)?$/i.test((await rl.question('Write this to the policy? [y/N] ')).trim());
    } finally {
      rl.close();
    }
  }

  private async run({ configuration, project, cache }: CommandProject): Promise<number> {
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
        if (!query)
          return error(`"${this.query}" is not a package name with an optional version`, EXIT.USAGE);
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
    if (!(await this.confirm())) {
      this.context.stdout.write('Nothing was written.\n');
      return EXIT.USAGE;
    }
    writeFileSync(path, text);
    this.context.stdout.write(`Tollgate: wrote the approval to ${display}; commit it with the change\n`);
    return exit;
  }
}
