import { Configuration, StreamReport } from '@yarnpkg/core';
import { formatDuration } from '../../../../policy/duration';
import { messageName, TollgateMessage } from '../../messages';
import { EXIT, openEngine } from '../command-support';
import type DbStatusCommand from '../db-status';

export async function execute(this: DbStatusCommand) {
  const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
  let exit: number = EXIT.OK;
  await StreamReport.start(
    { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
    async (report) => {
      const code = messageName(TollgateMessage.KNOWN_BAD);
      const ctx = await openEngine(configuration, report);
      if (!ctx) {
        exit = EXIT.USAGE;
        return;
      }
      try {
        const kb = ctx.knownBad;
        report.reportInfo(
          code,
          `Tollgate: ${kb.staleness.stale ? 'the known-bad database is stale' : kb.staleness.line}`,
        );
        for (const part of kb.parts) {
          const c = part.counts;
          const age = formatDuration(Math.max(0, ctx.now.getTime() - Date.parse(part.asOf)));
          report.reportInfo(
            code,
            `  ${part.source}: ${c.records} record(s), ${part.index.size} package(s), ${c.withdrawn} withdrawn, ${c.invalid} invalid skipped${c.bundles ? `, ${c.bundles} bundle(s)` : ''}${c.signers ? `, ${c.signers} compromised signer(s)` : ''}; imported ${part.importedAt}; as of ${part.asOf} (${age} old); ${part.signed ? `signed by ${part.signed.by} (${part.signed.issuer}) for knownBad.sources ${part.signed.source}` : 'unsigned'}`,
          );
          report.reportJson({
            type: 'tollgate-known-bad-source',
            ...part,
            index: undefined,
            ageMs: ctx.now.getTime() - Date.parse(part.asOf),
          });
        }
        for (const why of kb.rejected) report.reportWarning(code, `Tollgate: not used: ${why}`);
        report.reportInfo(
          code,
          `  project list: ${kb.listFile ? `${kb.listFile} (${kb.sources.lists[0]!.releases.length} release(s), ${kb.sources.lists[0]!.bundles.length} bundle(s), ${kb.sources.lists[0]!.signers.length} signer(s))` : 'none (.tollgate.known-bad.yml next to the policy)'}`,
        );
        report.reportInfo(code, `  verdict service: ${kb.service ? kb.service.url : 'none'}`);
        const maxAge = ctx.policy.knownBad?.maxAge;
        report.reportInfo(
          code,
          `  policy: ${maxAge ? `knownBad.maxAge ${maxAge.text}, stale: ${ctx.policy.knownBad!.stale}` : 'no knownBad.maxAge: the database may be of any age'}`,
        );
        report.reportJson({
          type: 'tollgate-known-bad-status',
          stale: kb.staleness.stale,
          line: kb.staleness.line,
          parts: kb.parts.length,
          rejected: kb.rejected,
          listFile: kb.listFile ?? null,
          verdictService: kb.service?.url ?? null,
        });
        if (kb.staleness.stale) {
          if (kb.staleness.gap) {
            report.reportError(
              code,
              `Tollgate: ${kb.staleness.line} (stale: deny: every install is denied until then)`,
            );
            exit = EXIT.VIOLATIONS;
          } else report.reportWarning(code, `Tollgate: ${kb.staleness.line}`);
        }
      } finally {
        await ctx.close();
      }
    },
  );
  return exit;
}
