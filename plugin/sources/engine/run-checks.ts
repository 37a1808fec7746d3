import { describeCause } from '../http-errors';
import { judgedNpm } from './check/classify';
import {
  checkPackage,
  hasLocalBinding,
  judgePatch,
  type PackageCheck,
  type PackageOutcome,
} from './check-package';
import type { EngineContext } from './context';
import { FetchFailure, probeStore } from './fetching';
import { askStoresInBatches } from './store-batches';

/** Runs package checks with bounded concurrency, reporting progress; results keep the input order. */
export async function runChecks(
  ctx: EngineContext,
  checks: PackageCheck[],
  onProgress?: (done: number, total: number) => void,
): Promise<PackageOutcome[]> {
  if (!ctx.settings.offline) await probeSources(ctx);
  // Threads pay off only for cold verification: packages not already bound on this machine.
  const cold = checks.filter((c) => !hasLocalBinding(ctx, c));
  if (!ctx.settings.offline) startStoreBatches(ctx, cold);
  await ctx.prepareVerifier(cold.length);
  const outcomes = new Array<PackageOutcome>(checks.length);
  let done = 0;
  const runPool = async (indices: number[], judge: (check: PackageCheck) => Promise<PackageOutcome>) => {
    let next = 0;
    const worker = async () => {
      while (next < indices.length) {
        const i = indices[next++]!;
        outcomes[i] = await judge(checks[i]!);
        onProgress?.(++done, checks.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(ctx.settings.concurrency, indices.length) }, worker));
  };
  const indices = checks.map((_, i) => i);
  const isPatch = (i: number) => checks[i]!.classified.kind === 'patch';
  await runPool(
    indices.filter((i) => !isPatch(i)),
    (check) => checkPackage(ctx, check),
  );
  // Patches last: each is judged on the evidence its base package got above, when the base is here.
  const byLocator = new Map<string, PackageOutcome>(
    indices.filter((i) => !isPatch(i)).map((i) => [checks[i]!.classified.locator.locatorHash, outcomes[i]!]),
  );
  await runPool(indices.filter(isPatch), async (check) => {
    const base = byLocator.get(check.classified.base!.locator.locatorHash);
    return base ? judgePatch(ctx, check, base) : checkPackage(ctx, check);
  });
  return outcomes;
}

/**
 * The stores are asked for every package the checks will ask them about, in batches, before the
 * first check does (an install has asked for most of them before Yarn's fetch step already).
 */
function startStoreBatches(ctx: EngineContext, checks: PackageCheck[]): void {
  const wanted = checks.flatMap(({ classified }) => {
    const npm = judgedNpm(classified);
    if (!npm?.version || ctx.prefetched.has(npm.locator.locatorHash)) return [];
    return [{ name: npm.name, version: npm.version }];
  });
  askStoresInBatches(ctx.net, ctx.settings.attestationStores, wanted);
}

/** Every configured attestation store is asked once up front; one that does not answer is a root cause. */
async function probeSources(ctx: EngineContext): Promise<void> {
  await Promise.all(
    ctx.settings.attestationStores.map(async (store) => {
      try {
        await probeStore(store, ctx.net);
      } catch (err) {
        ctx.unreachableSources.push({
          source: store,
          setting: 'tollgateAttestationStores in .yarnrc.yml',
          cause: err instanceof FetchFailure ? describeCause(err.cause) : String(err),
        });
      }
    }),
  );
}
