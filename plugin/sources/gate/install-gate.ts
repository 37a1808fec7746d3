import { writeFileSync } from 'node:fs';
import {
  type InstallOptions,
  type LocatorHash,
  MessageName,
  type Project,
  ReportError,
  structUtils,
} from '@yarnpkg/core';
import { applyPinUpdates, type Decision, serializePins } from '../../../policy';
import { captures } from '../engine/captures';
import type { PackageCheck } from '../engine/check-package';
import { ConfigurationProblem, createEngineContext, type EngineContext } from '../engine/context';
import { storeBundle, writeEvidenceFile } from '../engine/evidence-file';
import { classifyLocator, packagesToCheck } from '../engine/locators';
import { runChecks, tally } from '../engine/run-checks';
import { messageName, TollgateMessage } from '../messages';
import { reportDecision, reportLines } from '../report';

/** Locators the gate allowed in this process: only their lifecycle scripts may run. */
const allowedByProject = new WeakMap<Project, Set<LocatorHash>>();

export function isAllowedToRunScripts(project: Project, locatorHash: LocatorHash): boolean {
  return allowedByProject.get(project)?.has(locatorHash) ?? false;
}

export function reportConfigurationProblem(problem: ConfigurationProblem): never {
  const details = problem.details.length ? `\n${problem.details.join('\n')}` : '';
  throw new ReportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${problem.message}${details}`);
}

export async function openContext(project: Project): Promise<EngineContext> {
  try {
    return await createEngineContext(project.configuration);
  } catch (err) {
    if (err instanceof ConfigurationProblem) reportConfigurationProblem(err);
    throw err;
  }
}

/**
 * The gate: runs after Yarn has resolved and fetched everything and before it writes yarn.lock or
 * links anything (no lifecycle script or node-gyp build has run yet). Throwing a ReportError here stops
 * the install with the lockfile and node_modules untouched.
 */
export async function runInstallGate(project: Project, opts: InstallOptions): Promise<void> {
  const { report } = opts;
  const ctx = await openContext(project);
  try {
    if (
      ctx.policy.mode === 'off' &&
      ctx.settings.modeOverride === null &&
      ctx.policy.rules.every((r) => r.mode !== 'warn' && r.mode !== 'enforce')
    ) {
      allowedByProject.set(project, new Set(project.storedPackages.keys()));
      return;
    }
    for (const warning of ctx.policyWarnings) {
      report.reportWarning(
        messageName(TollgateMessage.POLICY_ERROR),
        `${warning.file}:${warning.line}:${warning.column}: ${warning.message}`,
      );
    }

    const checks: PackageCheck[] = [];
    for (const pkg of packagesToCheck(project.storedPackages.values())) {
      if (project.tryWorkspaceByLocator(pkg)) continue;
      const classified = classifyLocator(pkg, pkg.version);
      const npm =
        classified.kind === 'npm' ? classified : classified.base?.kind === 'npm' ? classified.base : null;
      checks.push({
        classified,
        checksum: project.storedChecksums.get(pkg.locatorHash) ?? null,
        captured: npm?.version ? captures.take(npm.name, npm.version) : undefined,
        cacheKey: opts.cache.cacheKey,
      });
    }

    let decisions: Decision[] = [];
    const outcomes = await report.startTimerPromise(
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
    decisions = outcomes.map((o) => o.decision);
    const verbose = project.configuration.get('enableInlineBuilds') === true && false;
    for (const decision of decisions) reportDecision(report, decision, { verbose });

    const t = tally(decisions);
    const summary = `Tollgate: ${t.allowed} allowed (${t.verified} on verified evidence), ${t.warned} warned, ${t.denied} denied`;
    if (t.denied > 0) {
      throw new ReportError(
        messageName(TollgateMessage.DENIED),
        `${summary}. The install was stopped before yarn.lock was written and before anything was linked or built.`,
      );
    }
    reportLines(report, TollgateMessage.INFO, [summary], 'info');

    const allowed = new Set<LocatorHash>();
    outcomes.forEach((outcome, i) => {
      if (outcome.decision.verdict !== 'deny') allowed.add(checks[i]!.classified.locator.locatorHash);
    });
    for (const pkg of project.storedPackages.values()) {
      if (structUtils.isVirtualLocator(pkg)) {
        if (allowed.has(structUtils.devirtualizeLocator(pkg).locatorHash)) allowed.add(pkg.locatorHash);
      } else if (project.tryWorkspaceByLocator(pkg)) {
        allowed.add(pkg.locatorHash);
      }
    }
    allowedByProject.set(project, allowed);

    persistEvidence(ctx, project, outcomes, opts);
  } finally {
    await ctx.close();
  }
}

function persistEvidence(
  ctx: EngineContext,
  project: Project,
  outcomes: Awaited<ReturnType<typeof runChecks>>,
  opts: InstallOptions,
): void {
  const file = ctx.evidenceFile;
  const live = new Set([...project.storedPackages.values()].map((p) => structUtils.stringifyLocator(p)));
  for (const key of Object.keys(file.packages)) if (!live.has(key)) delete file.packages[key];
  for (const outcome of outcomes) {
    if (!outcome.record) continue;
    for (const json of outcome.bundles) storeBundle(ctx.settings.evidenceFile, json);
    file.packages[outcome.record.key] = outcome.record.value;
  }
  const evidenceChanged = writeEvidenceFile(ctx.settings.evidenceFile, file);

  const updates = outcomes.flatMap((o) => (o.decision.verdict === 'deny' ? [] : o.decision.pinUpdates));
  let pinsChanged = false;
  if (updates.length > 0) {
    writeFileSync(ctx.pinsPath, serializePins(applyPinUpdates(ctx.pins, updates)));
    pinsChanged = true;
  }
  if ((evidenceChanged || pinsChanged) && opts.immutable) {
    opts.report.reportWarning(
      MessageName.UNNAMED,
      'Tollgate: the evidence or pins file changed during an immutable install; commit the new files',
    );
  }
}
