// What the install says about builds: each withheld build once per package, in Yarn's terms (which
// package, which steps, why, how to approve), and each build that runs on a digest approval, since no
// signer vouches for it. Builds Yarn itself would not run (enableScripts, dependenciesMeta) are not
// Tollgate's to report.
import { type LocatorHash, type Project, type Report, structUtils } from '@yarnpkg/core';
import type { Decision } from '../../../policy/decision';
import { formatLocation } from '../../../policy/diagnostics';
import { messageName, TollgateMessage } from '../messages';
import { packageLabel } from '../report';
import { yarnWouldBuild } from './script-guard';

/** The command that approves a withheld build, as the package's evidence allows. */
export function approveCommand(decision: Decision): string {
  const name = decision.package.name;
  const digest = decision.package.source === 'npm' && !decision.scripts?.signer ? ' --digest' : '';
  return `yarn tollgate scripts approve ${name}${digest} --reason "..."`;
}

export function withheldLine(decision: Decision): string {
  const scripts = decision.scripts!;
  const steps = scripts.steps?.length ? scripts.steps.join(', ') : 'build';
  const where = scripts.allowance ? ` (${formatLocation(scripts.allowance.location)})` : '';
  const hint =
    decision.package.source === 'npm' && !scripts.signer
      ? '; it is unsigned, so only this tarball can be approved'
      : '';
  return `${packageLabel(decision)}: its ${steps} did not run: ${scripts.message}${where}${hint}; approve it with \`${approveCommand(decision)}\``;
}

/** Whether the decision is about build steps at all (reportBuilds looks at no other). */
export function hasBuildSteps(decision: Decision): boolean {
  return Boolean(decision.scripts?.steps?.length);
}

function builds(project: Project, decision: Decision): boolean {
  const locator = decision.package.locator;
  if (!hasBuildSteps(decision) || !locator) return false;
  return yarnWouldBuild(project, structUtils.parseLocator(locator));
}

export function reportBuilds(report: Report, project: Project, decisions: readonly Decision[]): void {
  const seen = new Set<string>();
  const withheld: Decision[] = [];
  for (const decision of decisions) {
    const scripts = decision.scripts;
    if (!scripts || !builds(project, decision)) continue;
    const key = `${decision.package.name}@${decision.package.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (scripts.verdict === 'withhold' && scripts.mode !== 'off') withheld.push(decision);
    else if (scripts.by === 'integrity' && scripts.allowance) {
      report.reportWarning(
        messageName(TollgateMessage.SCRIPTS),
        `${packageLabel(decision)}: runs its ${scripts.steps!.join(', ')} on a digest approval (scripts.allow[${scripts.allowance.index}], ${formatLocation(scripts.allowance.location)}): no signer vouches for it, and its next version needs a new approval`,
      );
    }
  }
  const failing = withheld.filter((d) => d.scripts!.mode === 'enforce');
  for (const decision of withheld) {
    const line = withheldLine(decision);
    if (decision.scripts!.mode === 'enforce') report.reportError(messageName(TollgateMessage.SCRIPTS), line);
    else report.reportWarning(messageName(TollgateMessage.SCRIPTS), line);
  }
  if (failing.length > 0) {
    report.reportError(
      messageName(TollgateMessage.SCRIPTS),
      `Tollgate: the build of ${failing.length} package(s) was withheld (scripts mode enforce): everything else is installed, and the install fails until they are approved; \`yarn tollgate scripts\` lists them`,
    );
  } else if (withheld.length > 0) {
    report.reportWarning(
      messageName(TollgateMessage.SCRIPTS),
      `Tollgate: the build of ${withheld.length} package(s) was withheld (scripts mode warn); \`yarn tollgate scripts\` lists them`,
    );
  }
}

/** Locators of the packages whose builds the decisions allow (Yarn still decides whether one builds). */
export function buildsAllowed(decisions: readonly Decision[]): string[] {
  return decisions
    .filter((d) => d.verdict !== 'deny' && (d.scripts === undefined || d.scripts.verdict === 'run'))
    .flatMap((d) => (d.package.locator ? [d.package.locator] : []));
}

/** Locators whose build may run: allowed packages whose build is approved, their virtual instances, workspaces. */
export function buildableLocators(project: Project, allowedLocators: readonly string[]): Set<LocatorHash> {
  const buildable = new Set(allowedLocators);
  const allowed = new Set<LocatorHash>();
  for (const pkg of project.storedPackages.values()) {
    const base = structUtils.isVirtualLocator(pkg) ? structUtils.devirtualizeLocator(pkg) : pkg;
    if (project.tryWorkspaceByLocator(base) || buildable.has(structUtils.stringifyLocator(base))) {
      allowed.add(pkg.locatorHash);
    }
  }
  return allowed;
}
