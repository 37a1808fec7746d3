import { Configuration, StreamReport } from '@yarnpkg/core';
import { doctorCode, doctorMessage } from '../../doctor/codes';
import { type DoctorResult, runDoctor } from '../../doctor/gather';
import { messageName, TollgateMessage } from '../../messages';
import { EXIT } from '../command-support';
import type DoctorCommand from '../doctor';

export async function execute(this: DoctorCommand) {
  const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
  let result: DoctorResult | undefined;
  await StreamReport.start(
    { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
    async (report) => {
      result = await runDoctor(configuration);
      for (const f of result.findings) {
        const line = `${f.where}: ${f.message}`;
        const fix = `  fix: ${f.fix}`;
        if (f.severity === 'error') {
          report.reportError(doctorMessage(f.check), line);
          report.reportError(doctorMessage(f.check), fix);
        } else {
          report.reportWarning(doctorMessage(f.check), line);
          report.reportWarning(doctorMessage(f.check), fix);
        }
        report.reportJson({ type: 'tollgate-doctor-finding', code: doctorCode(f.check), ...f });
      }
      const problem = result.problem;
      if (problem) {
        report.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${problem.message}`);
        for (const line of problem.details)
          report.reportError(messageName(TollgateMessage.POLICY_ERROR), line);
        report.reportInfo(
          messageName(TollgateMessage.INFO),
          `Tollgate doctor: only the settings were checked (${result.checked.join(', ')}); fix the error above for the rest`,
        );
        return;
      }
      const errors = result.findings.filter((f) => f.severity === 'error').length;
      const warnings = result.findings.length - errors;
      report.reportInfo(
        messageName(TollgateMessage.INFO),
        `Tollgate doctor: ${errors === 0 && warnings === 0 ? 'nothing weakens protection' : `${errors} finding(s) weaken protection, ${warnings} warning(s)`} (checked ${result.checked.join(', ')})`,
      );
      report.reportJson({ type: 'tollgate-doctor-summary', errors, warnings, checked: result.checked });
    },
  );
  if (!result || result.problem) return EXIT.USAGE;
  return result.findings.some((f) => f.severity === 'error') ? EXIT.VIOLATIONS : EXIT.OK;
}
