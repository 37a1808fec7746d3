// The fetch guard's judgement (fetch-guard.ts): a descriptor or locator judged on what needs no
// bytes, by the policy, before Yarn resolves or fetches it. Loaded with the policy compiler on the
// first package the guard's quick answers (gate off, a workspace, a graph known to pass) do not settle.
import { type Locator, type Project, ReportError } from '@yarnpkg/core';
import { packageFacts, prefetchDecision } from '../engine/check/classify';
import { type ClassifiedLocator, classifyLocator } from '../engine/locators';
import { messageName, TollgateMessage } from '../messages';
import { processState } from '../process-state';
import { violationLines } from '../report';
import { policyView } from './gate-policy';

/** Refuses, before Yarn resolves it, a descriptor of a kind that is not an npm package. */
export async function refuseClassified(classified: ClassifiedLocator, project: Project): Promise<void> {
  const view = await policyView(project.configuration);
  refuseIfDenied(prefetchDecision(view, packageFacts(view, classified)), 'resolving');
}

function refuseIfDenied(decision: ReturnType<typeof prefetchDecision>, before: string): void {
  if (decision.verdict !== 'deny') return;
  throw new ReportError(
    messageName(TollgateMessage.DENIED),
    `Tollgate: refused before ${before}: ${violationLines(decision).join('\n')}\nNothing was fetched, cloned or run for it.`,
  );
}

/** Refuses, before Yarn fetches it, a locator that stage 1 (or the policy now) denies. */
export async function refuseLocator(base: Locator, project: Project): Promise<void> {
  let decision = processState().prefetched.get(project)?.get(base.locatorHash);
  if (!decision) {
    const view = await policyView(project.configuration);
    decision = prefetchDecision(view, packageFacts(view, classifyLocator(base)));
  }
  refuseIfDenied(decision, 'fetching');
}
