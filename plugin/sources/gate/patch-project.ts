import { Cache, Configuration, type InstallOptions, Project } from '@yarnpkg/core';
import { processState } from '../process-state';
import { installEarlyArchiveHashing } from './early-archive-hashing';
import { installFetchContexts, withFetchContexts } from './fetch-context';
import { installFetchGuard } from './fetch-guard';
import { gateIsOff, gatePolicySummary } from './gate-policy';
import { installPatchBuildWitness } from './patch-builds';
import { installBuildGuard } from './script-guard';

const PATCHED = Symbol.for('tollgate.project.patched');

/**
 * Yarn has no hook between resolution and fetch, nor between fetch and link. The gate wraps the
 * project's steps instead (the plugin factory runs more than once per command: patch once):
 *   resolveEverything  the policy is validated (or known valid: its remembered summary) before
 *                      anything is resolved or fetched;
 *   makeFetcher        every fetch, including those resolution makes (git, exec), is judged first;
 *   fetchEverything    before: what needs no bytes, for every resolved package (known to pass when
 *                      an install of the same graph passed here); after: the full check, before
 *                      persist() writes yarn.lock and linkEverything() runs scripts;
 *   getDependencyMeta  a build the gate does not approve is disabled (script-guard.ts);
 *   fetchPackageFromCache  each loader runs in the context of the locator it loads (fetch-context.ts),
 *                      the patched archives Yarn builds are witnessed (patch-builds.ts), and the
 *                      conditional packages' archives hashed as they arrive (early-archive-hashing.ts).
 */
export function installGate(): void {
  const registry = globalThis as unknown as Record<symbol, boolean>;
  if (registry[PATCHED]) return;
  registry[PATCHED] = true;
  installFetchGuard(Configuration);
  installBuildGuard(Project);
  // first: the cache wrappers installed after it see their loaders run inside its contexts
  installFetchContexts(Cache);
  installPatchBuildWitness(Cache);
  installEarlyArchiveHashing(Cache);

  const resolve = Project.prototype.resolveEverything;
  Project.prototype.resolveEverything = async function (this: Project, opts) {
    // a new resolution is a new graph: what vouched for the last one's stage 1 does not hold for it
    processState().stageOneAllowed.delete(this);
    if (!gateIsOff(this.configuration)) {
      // validated (its bases fetched first) or known valid from its summary, or the install stops here
      await gatePolicySummary(this.configuration);
    }
    return withFetchContexts(() => resolve.call(this, opts));
  };

  const fetch = Project.prototype.fetchEverything;
  Project.prototype.fetchEverything = async function (this: Project, opts: InstallOptions) {
    // An unchanged install that passed here before: stage 1 would allow every package again, and
    // every package is bound already (nothing to ask the network for early).
    // the gate, loaded by the first install (a Yarn command that installs nothing never compiles it)
    const { runInstallGate, stageOneAllowedBefore } = await import('./install-gate');
    const unchanged = !gateIsOff(this.configuration) && (await stageOneAllowedBefore(this));
    let early = null;
    if (!unchanged) {
      // loaded only now: a warm install with a valid verdict never needs them
      const [{ refuseBeforeFetch }, { startEvidencePrefetch }] = await Promise.all([
        import('./prefetch'),
        import('./evidence-prefetch'),
      ]);
      await refuseBeforeFetch(this, opts.report);
      early = startEvidencePrefetch(this);
    }
    // for the fetch guard, in this fetch step and the link step's fetches of the same graph
    if (unchanged) processState().stageOneAllowed.add(this);
    else processState().stageOneAllowed.delete(this);
    await withFetchContexts(async () => {
      await fetch.call(this, opts);
      await runInstallGate(this, opts, early);
    });
  };
}
