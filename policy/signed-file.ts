// Signed files that are not packages: a base policy an organisation publishes, a release of the
// Tollgate plugin. `yarn tollgate sign --as <kind>` signs an in-toto statement whose subject is the
// file's sha512 and whose predicate type names what the file is for, so a signature over a plugin
// release is never taken for a signed policy (or a package). Verified with Tollgate's own verifier
// against the trust roots the caller allows, and the signer against anchored signer patterns.
import { createHash } from 'node:crypto';
import { observeBundle } from './claims';
import { type BundleFacts, verifyBundle } from './evidence/bundle/verify-bundle';
import type { TrustContext } from './evidence/trust/context';
import type { Signer } from './model';
import type { SignedFileKind } from './signed-file-kinds';
import { bestSignerMatch } from './signer-match';

export { SIGNED_FILE_KINDS, type SignedFileKind } from './signed-file-kinds';

export const SIGNED_FILE_PREDICATE_TYPES: Record<SignedFileKind, string> = {
  policy: 'https://tollgate.invalid/policy/v1',
  'plugin-release': 'https://tollgate.invalid/plugin-release/v1',
};

const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

export function sha512Hex(bytes: Buffer): string {
  return createHash('sha512').update(bytes).digest('hex');
}

/** The statement signed for a file of this kind. */
export function signedFileStatement(
  bytes: Buffer,
  name: string,
  kind: SignedFileKind,
  predicate: Record<string, unknown>,
): Record<string, unknown> {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name, digest: { sha512: sha512Hex(bytes) } }],
    predicateType: SIGNED_FILE_PREDICATE_TYPES[kind],
    predicate,
  };
}

export type SignedFileVerification =
  | { ok: true; facts: BundleFacts; signer: { subject: string; issuer: string } }
  | { ok: false; message: string };

/**
 * Verifies a file's bundle: signature, certificate chain, transparency-log inclusion, the subject
 * digest (these very bytes), the predicate type of `kind`, a trust root in `trust`, and (when
 * `signers` is given) a signer it lists.
 */
export function verifySignedFile(
  trustContext: TrustContext,
  bytes: Buffer,
  bundleJson: string,
  expect: { kind: SignedFileKind; trust: readonly string[]; signers?: readonly Signer[]; name?: string },
): SignedFileVerification {
  let facts: BundleFacts;
  try {
    facts = verifyBundle(trustContext, bundleJson, {
      artifact: { type: 'digest', algorithm: 'sha512', digest: createHash('sha512').update(bytes).digest() },
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    return {
      ok: false,
      message: `its bundle does not verify against these bytes${code ? ` (${code})` : ''}: ${(err as Error).message}`,
    };
  }
  const expected = SIGNED_FILE_PREDICATE_TYPES[expect.kind];
  if (facts.predicateType !== expected)
    return {
      ok: false,
      message: `its bundle is not a signature of a ${expect.kind} (predicate ${facts.predicateType ?? 'none: a bare message signature'}, expected ${expected})`,
    };
  if (!facts.signer) return { ok: false, message: 'its bundle carries no signing certificate' };
  const signer = { subject: facts.signer.subject, issuer: facts.signer.issuer };
  if (!expect.trust.includes(facts.trustRoot))
    return {
      ok: false,
      message: `it is signed by ${signer.subject} under trust root ${facts.trustRoot}, which is not one of ${expect.trust.join(', ')}`,
    };
  if (expect.signers) {
    const { identity } = observeBundle({ ...facts, source: 'signed-file' });
    const match = bestSignerMatch(expect.signers, identity, {
      name: expect.name ?? expect.kind,
      version: '0.0.0',
    });
    if (!match?.ok) {
      const failed = match?.checks.filter((c) => !c.ok) ?? [];
      return {
        ok: false,
        message: `it is signed by ${signer.subject} (issuer ${signer.issuer}), whom the policy does not list${failed.length ? `: expected ${failed.map((c) => `${c.field}=${c.expected}`).join(' ')}, got ${failed.map((c) => `${c.field}=${c.actual ?? '(absent)'}`).join(' ')}` : ''}`,
      };
    }
  }
  return { ok: true, facts, signer };
}
