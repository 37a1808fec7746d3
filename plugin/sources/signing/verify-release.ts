// Checks that a plugin bundle is a Tollgate release signed by the expected identity: the Sigstore
// bundle `scripts/release.mjs` writes (`yarn tollgate sign --as plugin-release`) must verify against
// a trust root the caller chose, over these very bytes, with the plugin-release predicate type, and be
// signed by the given issuer and subject. Shared by `yarn tollgate verify-release` and any other
// caller that judges a plugin file.
import { createHash } from 'node:crypto';
import { loadTrustRoots } from '../../../policy/evidence';
import { compilePattern, isPatternProblem, type PatternSpec } from '../../../policy/patterns';
import { verifySignedFile } from '../../../policy/signed-file';

export interface ReleaseExpectation {
  issuer: string;
  /** the certificate's subject: an email, or a CI workflow URL such as …/release.yml@refs/tags/v1.2.3 */
  subject: PatternSpec;
  /** the trusted_root.json text the signature must chain to */
  trustedRootJson: string;
  /** how the root is named in messages (a file, a URL, "public-good") */
  trustRootName: string;
}

export type ReleaseVerification =
  | {
      ok: true;
      sha512: string;
      signer: { subject: string; issuer: string };
      logIndex?: number;
      /** seconds since the epoch: the log's signed time or a TSA timestamp */
      signedTime?: number;
      /** the commit a CI certificate names (GitHub's source repository digest) */
      commit?: string;
      repository?: string;
    }
  | { ok: false; sha512: string; message: string };

export function verifyPluginRelease(
  bytes: Buffer,
  bundleJson: string,
  expect: ReleaseExpectation,
): ReleaseVerification {
  const sha512 = createHash('sha512').update(bytes).digest('hex');
  const subject = compilePattern(expect.subject);
  if (isPatternProblem(subject))
    return { ok: false, sha512, message: `the expected identity: ${subject.message}` };
  let trust: ReturnType<typeof loadTrustRoots>;
  try {
    trust = loadTrustRoots([{ name: expect.trustRootName, trustedRootJson: expect.trustedRootJson }], {
      embeddedNpmKeys: false,
    });
  } catch (err) {
    return {
      ok: false,
      sha512,
      message: `the trusted root ${expect.trustRootName}: ${(err as Error).message}`,
    };
  }
  const verified = verifySignedFile(trust, bytes, bundleJson, {
    kind: 'plugin-release',
    trust: [expect.trustRootName],
    signers: [
      {
        index: 0,
        location: { file: 'verify-release', line: 1, column: 1 },
        issuer: expect.issuer,
        subject,
      },
    ],
    name: '@yarnpkg/plugin-tollgate',
  });
  if (!verified.ok) return { ok: false, sha512, message: verified.message };
  const { facts } = verified;
  const signedTime = [facts.integratedTime, facts.timestampTime]
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b)[0];
  const claims = facts.signer?.claims;
  return {
    ok: true,
    sha512,
    signer: verified.signer,
    ...(facts.logIndex !== undefined ? { logIndex: facts.logIndex } : {}),
    ...(signedTime !== undefined ? { signedTime } : {}),
    ...(claims?.sourceRepositoryDigest ? { commit: claims.sourceRepositoryDigest } : {}),
    ...(claims?.sourceRepositoryUri ? { repository: claims.sourceRepositoryUri } : {}),
  };
}
