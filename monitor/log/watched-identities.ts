// Which watched identities a logged certificate belongs to. The certificate's identity is read with
// policy/evidence (SAN, issuer, every Fulcio claim) and turned into the policy's ObservedIdentity,
// so repository, ids, workflow and ref mean here exactly what they mean in a policy. Every field a
// watched identity states must match; a claim the certificate lacks fails it.
import { X509Certificate } from '@sigstore/core';
import { type ObservedIdentity, observeBundle } from '../../policy/claims';
import { signerIdentity } from '../../policy/evidence/identity';
import type { SignerIdentity, VerifiedBundle } from '../../policy/evidence/types';
import type { WatchedIdentity } from '../config/model';
import type { IdentitySummary } from '../findings';

export interface CertificateIdentity {
  certificate: X509Certificate;
  signer: SignerIdentity;
  observed: ObservedIdentity;
}

export function matchesWatched(watched: WatchedIdentity, observed: ObservedIdentity): boolean {
  if (watched.issuer !== undefined && observed.issuer !== watched.issuer) return false;
  if (watched.subject && (observed.subject === undefined || !watched.subject.test(observed.subject)))
    return false;
  if (watched.repository !== undefined && observed.repository?.value !== watched.repository) return false;
  if (watched.repositoryId !== undefined && observed.repositoryId?.value !== watched.repositoryId)
    return false;
  if (watched.ownerId !== undefined && observed.ownerId?.value !== watched.ownerId) return false;
  if (
    watched.workflow &&
    (observed.workflow === undefined || !watched.workflow.test(observed.workflow.value))
  )
    return false;
  if (watched.ref && (observed.ref === undefined || !watched.ref.test(observed.ref.value))) return false;
  return true;
}

export class IdentityMatcher {
  /** certificates parsed (the rest were ruled out by the literal prefilter) */
  parsed = 0;
  private readonly needles: Buffer[] | undefined;

  constructor(private readonly watched: readonly WatchedIdentity[]) {
    // The prefilter is sound only if every watched identity has a literal its certificates contain.
    this.needles = watched.every((w) => w.needle) ? watched.map((w) => w.needle!) : undefined;
  }

  get active(): boolean {
    return this.watched.length > 0;
  }

  /** The identity of a certificate and the watched identities it matches; undefined when none. */
  match(der: Buffer): { identity: CertificateIdentity; watched: WatchedIdentity[] } | undefined {
    if (this.needles && !this.needles.some((needle) => der.includes(needle))) return undefined;
    this.parsed++;
    let identity: CertificateIdentity;
    try {
      identity = readCertificateIdentity(der);
    } catch {
      return undefined; // not a Fulcio certificate: it carries no identity to watch
    }
    const watched = this.watched.filter((w) => matchesWatched(w, identity.observed));
    return watched.length ? { identity, watched } : undefined;
  }
}

export function readCertificateIdentity(der: Buffer): CertificateIdentity {
  const certificate = X509Certificate.parse(der as Buffer<ArrayBuffer>);
  const signer = signerIdentity(certificate);
  // observeBundle reads only the signer (and provenance, absent here): the certificate's own claims.
  const bundle = {
    kind: 'signature',
    source: 'log',
    bundleDigest: '',
    trustRoot: '',
    signer,
  } as VerifiedBundle;
  return { certificate, signer, observed: observeBundle(bundle).identity };
}

export function summarizeIdentity(identity: CertificateIdentity): IdentitySummary {
  const claims: Record<string, string> = {};
  const observed = identity.observed;
  for (const key of [
    'repository',
    'repositoryId',
    'ownerId',
    'workflow',
    'ref',
    'event',
    'runner',
  ] as const) {
    const claim = observed[key];
    if (claim) claims[key] = claim.value;
  }
  const sha = identity.signer.claims.sourceRepositoryDigest ?? identity.signer.claims.githubWorkflowSha;
  if (sha) claims['commit'] = sha;
  return { issuer: identity.signer.issuer, subject: identity.signer.subject, claims };
}
