import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { BaseCommand } from '@yarnpkg/cli';
import { Configuration, StreamReport } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import { Option } from 'clipanion';
import { describeLayers, formatDiagnostic, loadPolicyTree } from '../../../policy';
import { policyBaseResolver, prefetchPolicyBases } from '../engine/policy-bases';
import { messageName, TollgateMessage } from '../messages';
import { readSettings } from '../settings';
import { EXIT } from './command-support';

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

  async execute() {
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
          report.reportError(
            code,
            `Tollgate: cannot read ${display} (${(err as NodeJS.ErrnoException).code})`,
          );
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
}
