import { type LocatorHash, type Project, type Report, ReportError } from '@yarnpkg/core';
import type { Decision } from '../../../policy';
import { packageFacts, prefetchDecision } from '../engine/check/classify';
import { projectEdges } from '../engine/edges';
import { classifyLocator, packagesToCheck } from '../engine/locators';
import { messageName, TollgateMessage } from '../messages';
import { processState } from '../process-state';
import { reportDecision } from '../report';
import { gateIsOff, policyView } from './gate-policy';

/**
 * Stage 1 of every check, for the whole install, before Yarn fetches a single package: the source of
 * each resolved package, whether that source runs code when fetched, the registry binding, the names
 * it is linked under and lockfile entries no resolver could have written. Denials are reported the way
 * the gate reports everything and stop the install here: nothing was downloaded, cloned or run.
 */
export async function refuseBeforeFetch(project: Project, report: Report): Promise<void> {
  if (gateIsOff(project.configuration)) return;
  const view = await policyView(project.configuration);
  const edges = projectEdges(project, project.storedPackages);
  const decisions = new Map<LocatorHash, Decision>();
  for (const pkg of packagesToCheck(project.storedPackages.values())) {
    if (project.tryWorkspaceByLocator(pkg)) continue;
    const facts = packageFacts(view, classifyLocator(pkg, pkg.version), {
      linkNames: [...(edges.linkNames.get(pkg.locatorHash) ?? [])],
      tampering: edges.tampering.get(pkg.locatorHash) ?? [],
    });
    decisions.set(pkg.locatorHash, prefetchDecision(view, facts));
  }
  processState().prefetched.set(project, decisions);
  const denied = [...decisions.values()].filter((d) => d.verdict === 'deny');
  if (denied.length === 0) return;
  for (const decision of denied) reportDecision(report, decision);
  throw new ReportError(
    messageName(TollgateMessage.DENIED),
    `Tollgate: ${denied.length} package${denied.length === 1 ? '' : 's'} denied before anything was fetched; nothing was downloaded, cloned or run, and yarn.lock was not written.`,
  );
}
