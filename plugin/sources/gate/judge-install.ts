// The install gate when no verdict stands: every package checked, decided and reported, the
// evidence and pins written, the verdicts recorded for the next install. install-gate.ts loads this
// module only then.
import { relative } from 'node:path';
import { type InstallOptions, type Project, ReportError, structUtils } from '@yarnpkg/core';
import { applyPinUpdates, serializePins } from '../../../policy';
import type { ArchiveDigests } from '../engine/archive-digests';
import type { PackageCheck, PackageOutcome } from '../engine/check-package';
import { ConfigurationProblem, createEngineContext, type EngineContext } from '../engine/context';
import { currentText, serializeEvidenceFile, storeBundle, writeIfChanged } from '../engine/evidence-file';
import { graphBeforeFetch } from '../engine/install-graph';
import { installVerdictKey, type VerdictInputs, writeInstallVerdict } from '../engine/install-verdict';
import { knownBadReport } from '../engine/known-bad';
import { lockfileChecks } from '../engine/lockfile-checks';
import { runChecks } from '../engine/run-checks';
import { summaryLine, tally } from '../engine/tally';
import { trustReport } from '../engine/trust-roots';
import { messageName, TollgateMessage } from '../messages';
import { processState } from '../process-state';
import { reportDecisions, reportLines, reportsJson } from '../report';
import { causeContextOf, findRootCauses } from '../root-causes';
import type { TollgateSettings } from '../settings';
import { buildableLocators, buildsAllowed, reportBuilds } from './build-report';
import type { EarlyEvidence } from './evidence-prefetch';
import { gatePolicy, reportConfigurationProblem } from './gate-policy';
import { rememberDecisions, verdictInputs } from './install-gate';
import { patchBuiltHere } from './patch-builds';

/** Off everywhere: nothing to check, and nothing is fetched. */
function everythingOff(ctx: EngineContext): boolean {
  const override = ctx.settings.modeOverride;
  if (override !== null) return override === 'off';
  return ctx.policy.mode === 'off' && ctx.policy.rules.every((r) => r.mode === undefined || r.mode === 'off');
}

export async function openContext(
  project: Project,
  early: EarlyEvidence | null = null,
): Promise<EngineContext> {
  try {
    return await createEngineContext(project.configuration, {
      loaded: await gatePolicy(project.configuration),
      ...(early ?? {}),
    });
  } catch (err) {
    if (err instanceof ConfigurationProblem) reportConfigurationProblem(err);
    throw err;
  }
}

/** What install-gate.ts has read already. */
export interface GateInputs {
  settings: TollgateSettings;
  secret: Buffer;
  digests: ArchiveDigests;
  verdictKey: (inputs: VerdictInputs | null) => Promise<string | null>;
}

export async function judgeInstall(
  project: Project,
  opts: InstallOptions,
  early: EarlyEvidence | null,
  { settings, secret, digests, verdictKey }: GateInputs,
): Promise<void> {
  const { report } = opts;
  const checks = await lockfileChecks(project, opts.cache, {
    mode: 'install',
    captures: processState().captures,
    digests,
    patchBuilds: (locator) => patchBuiltHere(opts.cache, locator),
  });
  digests.flush();

  const ctx = await openContext(project, early);
  try {
    if (everythingOff(ctx)) {
      processState().allowedByProject.set(project, new Set(project.storedPackages.keys()));
      return;
    }
    reportPolicyWarnings(report, ctx);
    const outcomes = await judgeWithProgress(ctx, checks, report);
    // what the checks read from the archives, for the next install (archive-digests.ts)
    digests.flush();
    for (const { level, line } of knownBadReport(ctx.knownBad, ctx.policy))
      reportLines(report, TollgateMessage.KNOWN_BAD, [line], level);
    for (const { level, line } of trustReport(ctx.trustRoots))
      reportLines(report, TollgateMessage.TRUST, [line], level);
    const decisions = outcomes.map((o) => o.decision);
    reportDecisions(report, decisions, findRootCauses(decisions, causeContextOf(ctx)));

    const t = tally(decisions);
    const summary = summaryLine(t);
    if (t.denied > 0) {
      throw new ReportError(
        messageName(TollgateMessage.DENIED),
        `${summary}. The install was stopped before yarn.lock was written and before anything was linked or built.`,
      );
    }
    reportLines(
      report,
      TollgateMessage.INFO,
      [
        summary,
        ...(ctx.verifierThreads > 0
          ? [`Tollgate: evidence verified on ${ctx.verifierThreads} worker threads`]
          : []),
      ],
      'info',
    );

    reportBuilds(report, project, decisions);
    processState().allowedByProject.set(project, buildableLocators(project, buildsAllowed(decisions)));

    persistEvidence(ctx, project, outcomes, opts);
    // A stale known-bad database is said on every install, so its decisions are not reused.
    if (!ctx.knownBad.staleness.stale) {
      const staleAt = ctx.knownBad.staleness.staleAt;
      const expiries = [...ctx.policy.exceptions.map((e) => e.expiresAt), ...(staleAt ? [staleAt] : [])];
      const inputs = await verdictInputs(project, settings, secret);
      const keyAfter = await verdictKey(inputs);
      // No package was denied, so stage 1 (whose denials are the checks' own) allowed every one.
      const stageOneKey = inputs
        ? installVerdictKey('before-fetch', inputs, graphBeforeFetch(project))
        : null;
      if (keyAfter && stageOneKey) {
        writeInstallVerdict(
          settings.cacheFolder,
          secret,
          'after-fetch',
          keyAfter,
          rememberDecisions(decisions),
          expiries,
          ctx.now,
          reportsJson(report) ? decisions : undefined,
        );
        writeInstallVerdict(
          settings.cacheFolder,
          secret,
          'before-fetch',
          stageOneKey,
          null,
          expiries,
          ctx.now,
        );
      }
    }
  } finally {
    await ctx.close();
  }
}

async function judgeWithProgress(
  ctx: EngineContext,
  checks: PackageCheck[],
  report: InstallOptions['report'],
): Promise<PackageOutcome[]> {
  return report.startTimerPromise(
    `Tollgate: checking ${checks.length} packages against ${ctx.policyFile}`,
    async () => {
      const progress = { done: 0, total: checks.length };
      const counter = report.reportProgress(
        (async function* () {
          while (progress.done < progress.total) {
            yield { progress: progress.done / Math.max(progress.total, 1) };
            await new Promise((r) => setTimeout(r, 100));
          }
        })(),
      );
      try {
        return await runChecks(ctx, checks, (done) => {
          progress.done = done;
        });
      } finally {
        progress.done = progress.total;
        counter.stop();
      }
    },
  );
}

/** Lint findings about the policy, each said once (with every place it applies to), under their own code. */
export function reportPolicyWarnings(report: InstallOptions['report'], ctx: EngineContext): void {
  const byMessage = new Map<string, string[]>();
  for (const w of ctx.policyWarnings) {
    const places = byMessage.get(w.message) ?? [];
    places.push(`${w.file}:${w.line}:${w.column}`);
    byMessage.set(w.message, places);
  }
  for (const [message, places] of byMessage) {
    report.reportWarning(messageName(TollgateMessage.POLICY_LINT), `${places.join(', ')}: ${message}`);
  }
}

function persistEvidence(
  ctx: EngineContext,
  project: Project,
  outcomes: readonly PackageOutcome[],
  opts: InstallOptions,
): void {
  const file = ctx.evidenceFile;
  const live = new Set([...project.storedPackages.values()].map((p) => structUtils.stringifyLocator(p)));
  for (const key of Object.keys(file.packages)) if (!live.has(key)) delete file.packages[key];
  for (const outcome of outcomes)
    if (outcome.record) file.packages[outcome.record.key] = outcome.record.value;
  const evidenceText = serializeEvidenceFile(file);
  const updates = outcomes.flatMap((o) => (o.decision.verdict === 'deny' ? [] : o.decision.pinUpdates));
  const pinsText = updates.length > 0 ? serializePins(applyPinUpdates(ctx.pins, updates)) : null;

  // Like yarn.lock under --immutable: committed evidence and pins that this install would change mean
  // the repository is incomplete, and CI must not fill the gap silently.
  if (opts.immutable) {
    const changed = [
      ...(evidenceText !== currentText(ctx.settings.evidenceFile) ? [ctx.settings.evidenceFile] : []),
      ...(pinsText !== null && pinsText !== currentText(ctx.pinsPath) ? [ctx.pinsPath] : []),
    ].map((p) => relative(ctx.settings.projectCwd, p));
    if (changed.length > 0) {
      throw new ReportError(
        messageName(TollgateMessage.POLICY_ERROR),
        `Tollgate: ${changed.join(' and ')} would be modified by this install, which --immutable forbids; run \`yarn install\` without it and commit the result`,
      );
    }
  }
  for (const outcome of outcomes) {
    if (outcome.record) for (const json of outcome.bundles) storeBundle(ctx.settings.evidenceFile, json);
  }
  writeIfChanged(ctx.settings.evidenceFile, evidenceText);
  if (pinsText !== null) writeIfChanged(ctx.pinsPath, pinsText);
}
