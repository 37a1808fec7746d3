// `PolicyCheckCommand`'s implementation, loaded when the command runs (../policy-check.ts declares it).
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { Configuration, StreamReport } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import { describeLayers, formatDiagnostic, loadPolicyTree } from '../../../../policy';
import { policyBaseResolver, prefetchPolicyBases } from '../../engine/policy-bases';
import { messageName, TollgateMessage } from '../../messages';
import { readSettings } from '../../settings';
import { EXIT } from '../command-support';
import type PolicyCheckCommand from '../policy-check';

export async function execute(this: PolicyCheckCommand) {
  const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
  const settings = readSettings(configuration);
  const cwd = npath.fromPortablePath(this.context.cwd);
  const path = this.file ? resolve(cwd, this.file) : settings.policyPath;
  let exit: number = EXIT.OK;
  await StreamReport.start(
    { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
    async (report) => {
      const code = messageName(TollgateMessage.POLICY_ERROR);
      if (!path) {
        report.reportError(
          code,
          'Tollgate: no policy given and `tollgatePolicyPath` is not set in .yarnrc.yml',
        );
        exit = EXIT.USAGE;
        return;
      }
      const display = relative(settings.projectCwd, path) || path;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        report.reportError(code, `Tollgate: cannot read ${display} (${(err as NodeJS.ErrnoException).code})`);
        exit = EXIT.USAGE;
        return;
      }
      const baseSettings = { ...settings, policyPath: path };
      await prefetchPolicyBases(baseSettings, text);
      const result = loadPolicyTree(text, display, policyBaseResolver(baseSettings), {
        now: new Date(),
        dir: dirname(path),
        key: path,
      });
      const errors = result.ok ? [] : result.errors;
      for (const d of errors) {
        report.reportJson({ type: 'tollgate-diagnostic', ...d });
        for (const line of formatDiagnostic(d).split('\n')) report.reportError(code, line);
      }
      for (const d of result.warnings) {
        report.reportJson({ type: 'tollgate-diagnostic', ...d });
        for (const line of formatDiagnostic(d).split('\n'))
          report.reportWarning(messageName(TollgateMessage.POLICY_LINT), line);
      }
      report.reportJson({
        type: 'tollgate-policy-check',
        file: display,
        valid: result.ok,
        errors: errors.length,
        warnings: result.warnings.length,
        ...(result.ok
          ? { rules: result.policy.rules.length, exceptions: result.policy.exceptions.length }
          : {}),
      });
      if (result.ok) {
        report.reportInfo(
          messageName(TollgateMessage.INFO),
          `${display}: valid (${result.policy.rules.length} rules, ${result.policy.exceptions.length} exceptions, ${result.warnings.length} warnings)`,
        );
        for (const line of describeLayers(result.policy))
          report.reportInfo(messageName(TollgateMessage.INFO), `  ${line}`);
      } else {
        exit = EXIT.USAGE;
      }
    },
  );
  return exit;
}
