// Signed snapshots: a company distributes its list as a file (a zip of OSV records and known-bad.yml
// lists) with a Sigstore bundle beside it. The bundle is an in-toto statement whose subject is the
// file's sha512 and whose predicate type says "a known-bad snapshot": a signature the same identity
// made over a package tarball is not a snapshot. On import the bundle is verified with Tollgate's
// verifier against the trust roots the policy's `knownBad.sources` entry names, and its signer against
// that entry's signers; anything else is refused.
import { createHash } from 'node:crypto';
import { observeBundle } from '../policy/claims';
import { type BundleFacts, verifyBundle } from '../policy/evidence';
import type { TrustContext } from '../policy/evidence/trust/context';
import type { KnownBadSourcePolicy } from '../policy/model';
import { bestSignerMatch } from '../policy/signer-match';

export const SNAPSHOT_PREDICATE_TYPE = 'https://tollgate.invalid/known-bad-snapshot/v1';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

/** The statement `yarn tollgate db sign` signs for a snapshot file. */
export function snapshotStatement(bytes: Buffer, name: string, now: Date): Record<string, unknown> {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name, digest: { sha512: createHash('sha512').update(bytes).digest('hex') } }],
    predicateType: SNAPSHOT_PREDICATE_TYPE,
    predicate: { createdAt: now.toISOString() },
  };
}

export type SnapshotVerification =
  | {
      ok: true;
      source: KnownBadSourcePolicy;
      facts: BundleFacts;
      signer: { subject: string; issuer: string };
    }
  | { ok: false; message: string };

/**
 * Verifies a snapshot's bundle against the candidate sources (the one named, or every declared one):
 * signature, certificate chain, transparency-log inclusion, the subject digest, the predicate type, a
 * trust root the source allows, and a signer it lists.
 */
export function verifySnapshot(
  trust: TrustContext,
  bytes: Buffer,
  bundleJson: string,
  candidates: readonly KnownBadSourcePolicy[],
): SnapshotVerification {
  let facts: BundleFacts;
  try {
    facts = verifyBundle(trust, bundleJson, {
      artifact: { type: 'digest', algorithm: 'sha512', digest: createHash('sha512').update(bytes).digest() },
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    return {
      ok: false,
      message: `its bundle does not verify${code ? ` (${code})` : ''}: ${(err as Error).message}`,
    };
  }
  if (facts.predicateType !== SNAPSHOT_PREDICATE_TYPE) {
    return {
      ok: false,
      message: `its bundle is not a known-bad snapshot signature (predicate ${facts.predicateType ?? 'none: a bare message signature'}, expected ${SNAPSHOT_PREDICATE_TYPE})`,
    };
  }
  if (!facts.signer) return { ok: false, message: 'its bundle carries no signing certificate' };
  const signer = { subject: facts.signer.subject, issuer: facts.signer.issuer };
  const { identity } = observeBundle({ ...facts, source: 'snapshot' });
  const misses: string[] = [];
  for (const source of candidates) {
    if (!source.trust.includes(facts.trustRoot)) {
      misses.push(`${source.name} trusts ${source.trust.join(', ')}, not ${facts.trustRoot}`);
      continue;
    }
    const match = bestSignerMatch(source.signers, identity, { name: source.name, version: '0.0.0' });
    if (match?.ok) return { ok: true, source, facts, signer };
    const failed = match?.checks.filter((c) => !c.ok) ?? [];
    misses.push(
      `${source.name} expects ${failed.map((c) => `${c.field}=${c.expected}`).join(' ') || 'another signer'}, got ${failed.map((c) => `${c.field}=${c.actual ?? '(absent)'}`).join(' ') || `${signer.subject} (${signer.issuer})`}`,
    );
  }
  return {
    ok: false,
    message: `it is signed by ${signer.subject} (issuer ${signer.issuer}, trust root ${facts.trustRoot}), whom no accepted source lists: ${misses.join('; ') || 'the policy declares no knownBad.sources'}`,
  };
}
