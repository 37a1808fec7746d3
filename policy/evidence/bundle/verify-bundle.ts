// One bundle, end to end: parse, cryptographic verification by sigstore-js against each trust root
// (explicit material, no network), then the checks sigstore-js leaves to callers, then the facts a
// policy needs. Throws EvidenceError for anything wrong with the evidence; callers turn it into an
// EvidenceFailure.

import { createHash, type KeyObject } from 'node:crypto';
import type { Bundle } from '@sigstore/bundle';
import type { X509Certificate } from '@sigstore/core';
import { withoutUndefined } from '../encoding';
import { EvidenceError, toEvidenceError } from '../error';
import { signerIdentity } from '../identity';
import {
  assertSubjectHasDigest,
  assertSubjectIsPackage,
  readStatement,
  type Statement,
} from '../statement/in-toto';
import { isProvenance, provenanceClaims } from '../statement/provenance';
import { assertPublishPredicate, isPublishAttestation } from '../statement/publish-attestation';
import { npmPurl } from '../statement/purl';
import { signedIntegratedTime, timestampAuthorityTime } from '../timestamp/signed-time';
import type { PreparedTrustRoot, TrustContext } from '../trust/context';
import type { BundleKind, VerifiedBundle } from '../types';
import { type Artifact, signedEntityFor } from './artifact';
import { assertNoForeignRootInChain } from './chain';
import { prepareLeaf } from './leaf-certificate';
import { parseBundle } from './parse';
import { assertTlogNamesSigner } from './tlog-certificate';

/** What the bundle must be about. */
export interface BundleTarget {
  /** An npm package version: statements must name its purl and tarball sha512. */
  package?: { name: string; version: string; sha512: Buffer };
  /** The artifact for message signatures (and the subject digest of statements when no package is given). */
  artifact?: Artifact;
}

export type BundleFacts = Omit<VerifiedBundle, 'source'>;

interface CryptoVerified {
  root: PreparedTrustRoot;
  key: KeyObject;
  leaf?: X509Certificate;
}

// Roots whose transparency logs include the bundle's log are tried first; the verdict does not depend
// on order, only which root's name is reported and how much work a miss costs.
function candidateRoots(ctx: TrustContext, bundle: Bundle): PreparedTrustRoot[] {
  const logId = bundle.verificationMaterial.tlogEntries[0]?.logId?.keyId?.toString('hex');
  const matching = ctx.roots.filter((r) => logId && r.tlogIds.has(logId));
  return [...matching, ...ctx.roots.filter((r) => !matching.includes(r))];
}

function verifyCryptographically(
  ctx: TrustContext,
  bundle: Bundle,
  artifact: Artifact | undefined,
): CryptoVerified {
  const prepared = ctx.prepared;
  // On the fast path the leaf is parsed once here and shared by every later step; the reference path
  // lets toSignedEntity parse its own copy, as sigstore-js alone does.
  const parsedLeaf = assertNoForeignRootInChain(
    bundle,
    ctx.roots.flatMap((r) => r.rootCertificates),
    prepared?.certificates,
  );
  const entity = prepared
    ? signedEntityFor(
        bundle,
        artifact,
        parsedLeaf && prepareLeaf(parsedLeaf.cert, parsedLeaf.der, prepared.certificates),
      )
    : signedEntityFor(bundle, artifact);
  const roots = candidateRoots(ctx, bundle);
  const errors: { root: PreparedTrustRoot; error: EvidenceError }[] = [];
  for (const root of roots) {
    try {
      const signer = root.verifier.verify(entity);
      assertTlogNamesSigner(bundle, signer.key, prepared?.spki);
      const leaf = entity.key.$case === 'certificate' ? entity.key.certificate : undefined;
      return { root, key: signer.key, leaf };
    } catch (err) {
      errors.push({ root, error: toEvidenceError(err, `trust root "${root.name}"`) });
    }
  }
  // Report the failure from the root that knows the bundle's log when there is one: that is the real
  // reason. Otherwise no configured root recognises the bundle at all.
  const logId = bundle.verificationMaterial.tlogEntries[0]?.logId?.keyId?.toString('hex') ?? 'none';
  const knowing = errors.find((e) => e.root.tlogIds.has(logId));
  if (knowing) throw knowing.error;
  if (errors.length === 1) throw errors[0]!.error;
  throw new EvidenceError(
    'UNTRUSTED_ROOT',
    `no trust root verifies this bundle (transparency log ${logId.slice(0, 16)}…): ${errors.map((e) => e.error.message).join('; ')}`,
  );
}

function kindOf(statement: Statement | undefined, keyless: boolean): BundleKind {
  if (!statement) return 'signature';
  if (isPublishAttestation(statement.predicateType)) return keyless ? 'signature' : 'publish-attestation';
  if (isProvenance(statement.predicateType)) return 'provenance';
  return 'signature';
}

function checkStatement(
  ctx: TrustContext,
  bundle: Bundle,
  target: BundleTarget,
  verified: CryptoVerified,
): Statement | undefined {
  if (bundle.content.$case !== 'dsseEnvelope') return undefined;
  const statement = readStatement(bundle);
  if (target.package) {
    const { name, version, sha512 } = target.package;
    assertSubjectIsPackage(statement, npmPurl(name, version), sha512);
    if (isPublishAttestation(statement.predicateType)) {
      // Keyless: a publisher's own statement that it published this tarball (what `yarn tollgate
      // sign` writes outside CI); it counts as a signature by the certificate's identity.
      // Key-signed: npm's registry attestation, only from a trusted npm attestation key.
      if (!verified.leaf) {
        const hint =
          bundle.verificationMaterial.content.$case === 'publicKey'
            ? bundle.verificationMaterial.content.publicKey.hint
            : '';
        if (!ctx.npmKeys.some((k) => k.usage === 'npm:attestations' && k.keyId === hint)) {
          throw new EvidenceError(
            'PUBLISH_ATTESTATION_NOT_KEY_SIGNED',
            `publish attestation is signed by "${hint}", which is not a trusted npm attestation key`,
          );
        }
      }
      assertPublishPredicate(statement, name, version);
    }
  } else if (target.artifact?.type === 'digest') {
    assertSubjectHasDigest(statement, target.artifact.algorithm, target.artifact.digest);
  } else if (target.artifact?.type === 'bytes') {
    assertSubjectHasDigest(statement, 'sha256', createHash('sha256').update(target.artifact.data).digest());
  }
  return statement;
}

function logFacts(
  bundle: Bundle,
): Pick<BundleFacts, 'integratedTime' | 'timestampTime' | 'logId' | 'logIndex'> {
  const entry = bundle.verificationMaterial.tlogEntries[0];
  if (!entry) return withoutUndefined({ timestampTime: timestampAuthorityTime(bundle) });
  return withoutUndefined({
    integratedTime: signedIntegratedTime(bundle),
    timestampTime: timestampAuthorityTime(bundle),
    logId: entry.logId.keyId.toString('hex'),
    logIndex: Number(entry.logIndex),
  });
}

/** Verifies one bundle against the trust context and the target; throws EvidenceError. */
export function verifyBundle(ctx: TrustContext, input: string | object, target: BundleTarget): BundleFacts {
  const { bundle, digest } = parseBundle(input);
  const artifact = target.artifact;
  if (bundle.content.$case === 'messageSignature' && target.package && !artifact) {
    throw new EvidenceError('TARBALL_REQUIRED', 'a message signature over a package needs the tarball bytes');
  }
  const verified = verifyCryptographically(ctx, bundle, artifact);
  const statement = checkStatement(ctx, bundle, target, verified);
  const kind = kindOf(statement, verified.leaf !== undefined);
  const facts: BundleFacts = {
    kind,
    bundleDigest: digest,
    trustRoot: verified.root.name,
    ...logFacts(bundle),
  };
  if (statement) facts.predicateType = statement.predicateType;
  if (verified.leaf) facts.signer = signerIdentity(verified.leaf);
  else if (bundle.verificationMaterial.content.$case === 'publicKey') {
    facts.keyId = bundle.verificationMaterial.content.publicKey.hint;
  }
  if (kind === 'provenance' && statement)
    facts.provenance = provenanceClaims(statement.predicateType, statement.predicate);
  return facts;
}
