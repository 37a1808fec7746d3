// Keyless signing of one exact npm tarball with the unmodified sigstore client, then an independent
// check of the result with Tollgate's own verifier: a bundle that does not verify is never returned.
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { type BundleFacts, loadTrustRoots, verifyBundle } from '../../../policy/evidence';
import { describeCause, type Environment, SigningError } from './errors';
import {
  assertTokenMatchesBuild,
  type GitHubBuild,
  isGitHubActions,
  readGitHubBuild,
} from './github-actions';
import type { IdentityToken } from './identity-token';
import type { SigstoreInstance } from './sigstore-instance';
import {
  IN_TOTO_PAYLOAD_TYPE,
  type PackageSubject,
  provenanceStatement,
  publishStatement,
  sha512Hex,
} from './statement';

export type AttestationKind = 'provenance' | 'publish';

export interface StatementChoice {
  kind: AttestationKind;
  build?: GitHubBuild;
  /** why this kind was chosen, for the report */
  note: string;
}

function tokenNamesWorkflow(token: string): boolean {
  try {
    const claims = decodeJwt(token);
    return typeof claims.workflow_ref === 'string' || typeof claims.job_workflow_ref === 'string';
  } catch {
    return false;
  }
}

/**
 * SLSA provenance when the run is a GitHub Actions workflow whose token names it (so the certificate
 * vouches for the same build the statement describes); a publish attestation otherwise.
 * `provenance`: true requires provenance, false forbids it, undefined decides from the environment.
 */
export function chooseStatement(
  env: Environment,
  identity: IdentityToken,
  provenance: boolean | undefined,
): StatementChoice {
  if (provenance === false) return { kind: 'publish', note: 'publish attestation (--no-provenance)' };
  const build = readGitHubBuild(env);
  if ('missing' in build) {
    if (provenance === true) {
      throw new SigningError(
        'PROVENANCE_UNAVAILABLE',
        isGitHubActions(env)
          ? `provenance needs the GitHub Actions variables ${build.missing.join(', ')}`
          : 'provenance can only be generated in GitHub Actions (GITHUB_ACTIONS=true with the workflow variables)',
      );
    }
    const note = isGitHubActions(env)
      ? `publish attestation: GitHub Actions variables missing for provenance (${build.missing.join(', ')})`
      : 'publish attestation (not running in GitHub Actions)';
    return { kind: 'publish', note };
  }
  if (!tokenNamesWorkflow(identity.token)) {
    if (provenance === true) {
      throw new SigningError(
        'PROVENANCE_UNAVAILABLE',
        `the identity token (from ${identity.source}) names no workflow, so the certificate could not vouch for provenance`,
      );
    }
    return {
      kind: 'publish',
      note: `publish attestation: the identity token (from ${identity.source}) names no workflow`,
    };
  }
  assertTokenMatchesBuild(identity.token, build);
  return { kind: 'provenance', build, note: `SLSA provenance of ${build.workflowRef}` };
}

export interface SignRequest {
  tarball: Buffer;
  name: string;
  version: string;
  /** the registry named by a publish attestation */
  registry: string;
  choice: StatementChoice;
  identity: IdentityToken;
  instance: SigstoreInstance;
}

export interface SignedPackage {
  subject: PackageSubject;
  kind: AttestationKind;
  statement: Record<string, unknown>;
  /** the exact DSSE payload that was signed */
  payload: Buffer;
  /** the Sigstore bundle, as JSON */
  bundle: Record<string, unknown>;
}

export function integrityOf(tarball: Buffer): string {
  return `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
}

export async function signPackage(request: SignRequest): Promise<SignedPackage> {
  const subject: PackageSubject = {
    name: request.name,
    version: request.version,
    integrity: integrityOf(request.tarball),
  };
  const { choice } = request;
  const statement =
    choice.kind === 'provenance'
      ? provenanceStatement(subject, choice.build!.claims)
      : publishStatement(subject, request.registry);
  const payload = Buffer.from(JSON.stringify(statement));
  // Loaded on use: every other Yarn command would otherwise pay for the signing client at startup.
  const { attest } = await import('sigstore');
  let bundle: unknown;
  try {
    bundle = await attest(payload, IN_TOTO_PAYLOAD_TYPE, {
      fulcioURL: request.instance.fulcioURL,
      rekorURL: request.instance.rekorURL,
      identityToken: request.identity.token,
      tlogUpload: true,
      retry: 1,
    });
  } catch (err) {
    throw new SigningError(
      'SIGNING_FAILED',
      `signing with ${request.instance.fulcioURL} (certificate) and ${request.instance.rekorURL} (log) failed: ${signingCause(err)}`,
      err,
    );
  }
  return { subject, kind: choice.kind, statement, payload, bundle: JSON.parse(JSON.stringify(bundle)) };
}

// sigstore-js wraps HTTP failures in InternalError whose cause holds the server's answer.
function signingCause(err: unknown): string {
  const parts = [describeCause(err)];
  let cause = (err as { cause?: unknown })?.cause;
  while (cause && parts.length < 4) {
    parts.push(describeCause(cause));
    cause = (cause as { cause?: unknown })?.cause;
  }
  return [...new Set(parts)].join(': ');
}

/**
 * Checks the fresh bundle with Tollgate's verifier against the instance's trusted root: signature,
 * certificate chain, SCT, transparency-log inclusion, and that its subject is the tarball's sha512. Then
 * that the signed payload is byte for byte the statement built here.
 */
export function verifySignedPackage(signed: SignedPackage, trustedRootJson: string): BundleFacts {
  let facts: BundleFacts;
  try {
    const ctx = loadTrustRoots([{ name: 'signing instance', trustedRootJson }], { embeddedNpmKeys: false });
    facts = verifyBundle(ctx, signed.bundle, {
      artifact: {
        type: 'digest',
        algorithm: 'sha512',
        digest: Buffer.from(sha512Hex(signed.subject.integrity), 'hex'),
      },
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new SigningError(
      'SELF_VERIFICATION_FAILED',
      `the new bundle does not verify against the trusted root${code ? ` (${code})` : ''}: ${describeCause(err)}`,
      err,
    );
  }
  const envelope = (signed.bundle as { dsseEnvelope?: { payload?: string } }).dsseEnvelope;
  if (envelope?.payload !== signed.payload.toString('base64')) {
    throw new SigningError(
      'SELF_VERIFICATION_FAILED',
      'the bundle signs another payload than the statement built',
    );
  }
  if (!facts.signer) {
    throw new SigningError('SELF_VERIFICATION_FAILED', 'the bundle carries no signing certificate');
  }
  return facts;
}
