import type { Decision } from '../../../policy';
import { checkPackage, type PackageCheck, type PackageOutcome, recordKey } from './check-package';
import type { EngineContext } from './context';
import { sameChecksum } from './tarball-binding';

/** Runs package checks with bounded concurrency, reporting progress; results keep the input order. */
export async function runChecks(
  ctx: EngineContext,
  checks: PackageCheck[],
  onProgress?: (done: number, total: number) => void,
): Promise<PackageOutcome[]> {
  // Threads pay off only for cold verification: packages not already bound to a recorded verdict.
  const cold = checks.filter((c) => {
    if (c.captured) return true;
    const record = ctx.evidenceFile.packages[recordKey(c.classified.base?.locator ?? c.classified.locator)];
    return !record || !c.checksum || !record.checksum || !sameChecksum(record.checksum, c.checksum);
  });
  await ctx.prepareVerifier(cold.length);
  const outcomes = new Array<PackageOutcome>(checks.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < checks.length) {
      const i = next++;
      outcomes[i] = await checkPackage(ctx, checks[i]!);
      onProgress?.(++done, checks.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.settings.concurrency, checks.length) }, worker));
  return outcomes;
}

export interface Tally {
  allowed: number;
  warned: number;
  denied: number;
  /** allowed on cryptographic evidence (signature or provenance or registry signature) */
  verified: number;
}

export function tally(decisions: readonly Decision[]): Tally {
  const t: Tally = { allowed: 0, warned: 0, denied: 0, verified: 0 };
  for (const d of decisions) {
    if (d.verdict === 'allow') t.allowed++;
    else if (d.verdict === 'warn') t.warned++;
    else t.denied++;
    if (d.verdict !== 'deny' && d.evidence.satisfied !== 'none') t.verified++;
  }
  return t;
}
