// The one-line summary of an install's or an audit's decisions.
import type { Decision } from '../../../policy';

export interface Tally {
  allowed: number;
  warned: number;
  denied: number;
  /** allowed on cryptographic evidence (signature or provenance or registry signature) */
  verified: number;
}

export function summaryLine(t: Tally): string {
  return `Tollgate: ${t.allowed} allowed (${t.verified} on verified evidence), ${t.warned} warned, ${t.denied} denied`;
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
