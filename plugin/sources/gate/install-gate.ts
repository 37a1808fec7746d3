// The install gate: decides, after Yarn's fetch step and before anything is written or linked,
// whether the install may go on. An unchanged install that passed here before is answered from its
// verdict (install-verdict.ts); anything else is judged in full by judge-install.ts, loaded only then.
import type { InstallOptions, Project } from '@yarnpkg/core';
import type { Decision } from '../../../policy';
import { ArchiveDigests } from '../engine/archive-digests';
import { graphAfterFetch, graphBeforeFetch } from '../engine/install-graph';
import {
  installVerdictKey,
  type RememberedDecisions,
  readEveryDecision,
  readInstallVerdict,
  type VerdictInputs,
} from '../engine/install-verdict';
import { ConfigurationProblem, openCacheKey, policyBaseInputs } from '../engine/policy-load';
import { registryMap } from '../engine/registries';
import { summaryLine, tally } from '../engine/tally';
import { knownBadVerdictInputs, trustVerdictInputs } from '../engine/verdict-inputs';
import { messageName, TollgateMessage } from '../messages';
import { processState } from '../process-state';
import { reportLines, reportRememberedDecision, reportsJson, saidAgain } from '../report';
import { pinsPathFor, readSettings, type TollgateSettings } from '../settings';
import { buildableLocators, buildsAllowed, hasBuildSteps, reportBuilds } from './build-report';
import type { EarlyEvidence } from './evidence-prefetch';
import { gatePolicySummary, reportConfigurationProblem } from './gate-policy';

export { reportConfigurationProblem };

function cacheKeyOrReport(settings: TollgateSettings): Buffer {
  try {
    return openCacheKey(settings);
  } catch (err) {
    if (err instanceof ConfigurationProblem) reportConfigurationProblem(err);
    throw err;
  }
}

/** Yarn settings that change which archive Yarn links or what its checksum says about it. */
function yarnChecksumSettings(project: Project): Record<string, unknown> {
  const configuration = project.configuration;
  return {
    checksumBehavior: configuration.get('checksumBehavior'),
    compressionLevel: configuration.get('compressionLevel'),
    enableGlobalCache: configuration.get('enableGlobalCache'),
    enableMirror: configuration.get('enableMirror'),
    cacheFolder: configuration.get('cacheFolder'),
    globalFolder: configuration.get('globalFolder'),
  };
}

/**
 * What an install verdict depends on besides the graph, read now; null when no verdict may be used:
 * no policy file, or a known-bad verdict service, whose list changes without anything here changing
 * (every install asks it again).
 */
export async function verdictInputs(
  project: Project,
  settings: TollgateSettings,
  secret: Buffer,
): Promise<VerdictInputs | null> {
  if (!settings.policyPath) return null;
  const summary = await gatePolicySummary(project.configuration);
  if (summary.verdictService) return null;
  return {
    settings,
    pinsPath: pinsPathFor(settings.policyPath),
    registries: registryMap(project.configuration),
    yarnSettings: yarnChecksumSettings(project),
    inputs: {
      ...knownBadVerdictInputs(settings, secret),
      ...trustVerdictInputs(settings),
      ...policyBaseInputs(summary),
    },
    trustRootFiles: summary.trustRootFiles,
  };
}

/**
 * The gate: runs after Yarn has resolved and fetched everything and before it writes yarn.lock or
 * links anything (no lifecycle script or node-gyp build has run yet). Throwing a ReportError here stops
 * the install with the lockfile and node_modules untouched.
 */
export async function runInstallGate(
  project: Project,
  opts: InstallOptions,
  early: EarlyEvidence | null = null,
): Promise<void> {
  const { report } = opts;
  if (project.configuration.get('tollgateMode') === 'off') {
    // An explicit override by whoever runs the command: said aloud, never silent.
    report.reportWarning(
      messageName(TollgateMessage.WARNED),
      'Tollgate is off for this command (tollgateMode: off); nothing was checked',
    );
    processState().allowedByProject.set(project, new Set(project.storedPackages.keys()));
    return;
  }
  const settings = readSettings(project.configuration);
  const secret = cacheKeyOrReport(settings);
  // archives Yarn does not validate (conditional packages) are hashed here, once per file
  const digests = new ArchiveDigests(settings.cacheFolder, secret, settings.projectCwd);
  const verdictKey = async (inputs: VerdictInputs | null) =>
    inputs
      ? installVerdictKey('after-fetch', inputs, await graphAfterFetch(project, opts.cache, digests))
      : null;
  const keyBefore = await verdictKey(await verdictInputs(project, settings, secret));
  const cached = keyBefore
    ? readInstallVerdict(settings.cacheFolder, secret, 'after-fetch', keyBefore, new Date())
    : null;
  // `--json` carries every decision: without the full list stored, the install is judged again
  const reported =
    cached && (reportsJson(report) ? readEveryDecision(settings.cacheFolder, secret, cached) : cached.said);
  if (cached && reported) {
    digests.flush();
    for (const decision of reported) reportRememberedDecision(report, decision);
    reportLines(
      report,
      TollgateMessage.INFO,
      [`${summaryLine(cached.tally)}; nothing changed since the install verified at ${cached.createdAt}`],
      'info',
    );
    reportBuilds(report, project, cached.said);
    processState().allowedByProject.set(project, buildableLocators(project, cached.buildable));
    return;
  }
  // Something changed: the full check, loaded only now (a warm install with a valid verdict never
  // compiles the verifier, the trust roots or the evidence stores).
  const { judgeInstall } = await import('./judge-install');
  await judgeInstall(project, opts, early, { settings, secret, digests, verdictKey });
}

/** What the next unchanged install needs of these decisions (install-verdict.ts). */
export function rememberDecisions(decisions: readonly Decision[]): RememberedDecisions {
  return {
    tally: tally(decisions),
    said: decisions.filter((d) => saidAgain(d) || hasBuildSteps(d)),
    buildable: buildsAllowed(decisions),
  };
}

/**
 * Whether stage 1 (prefetch.ts) is known to allow every package of this install: an install that
 * passed on this machine recorded so for the same graph and inputs, and the record is still valid.
 */
export async function stageOneAllowedBefore(project: Project): Promise<boolean> {
  const settings = readSettings(project.configuration);
  let secret: Buffer;
  try {
    secret = openCacheKey(settings);
  } catch {
    return false; // the gate reports the problem after the fetch step
  }
  const inputs = await verdictInputs(project, settings, secret);
  const key = inputs ? installVerdictKey('before-fetch', inputs, graphBeforeFetch(project)) : null;
  return (
    key !== null && readInstallVerdict(settings.cacheFolder, secret, 'before-fetch', key, new Date()) !== null
  );
}
