// Script approvals: a build runs when the identity that signs the release is approved, or its exact
// tarball is, or its source is; otherwise the default decides, and nothing else does (not the name).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VerifiedBundle } from '../../policy/evidence/types';
import {
  buildStepsOf,
  type Decision,
  evaluate,
  loadPolicy,
  type Mode,
  NODE_GYP_BUILD,
  type PackageFacts,
} from '../../policy/index';
import {
  emailBundle,
  evidenceFor,
  GITHUB_ISSUER,
  githubBundle,
  NOW,
  policyOf,
  publishAttestation,
} from './helpers';

const DIGEST = `sha512-${'A'.repeat(86)}==`;
const OTHER_DIGEST = `sha512-${'B'.repeat(86)}==`;

const approvals = `
  allow:
    - package: native-thing
      signers:
        - issuer: ${GITHUB_ISSUER}
          repository: github.com/sigstore/sigstore-js
          workflow: .github/workflows/release.yml
      reason: builds its addon with node-gyp
    - package: pinned-blob
      integrity: ${DIGEST}
      reason: unsigned upstream; reviewed this tarball
    - package: old-tool
      versions: "<2"
      signers:
        - issuer: ${GITHUB_ISSUER}
          repository: github.com/sigstore/sigstore-js
      reason: only its 1.x line is reviewed
    - package: from-git
      source: git
      repository: github.com/acme/from-git
      reason: our fork
    - package: warned-thing
      mode: warn
      signers:
        - issuer: https://issuer.example
          subject: someone@example.com
      reason: rolling out
`;

function policyWith(scripts: string, extra = ''): ReturnType<typeof policyOf> {
  return policyOf(`version: 1
mode: enforce
defaults:
  require: none
  sources: [npm, git, file]
rules:
  - name: signed
    packages: [signed-*]
    require: signature
    signers: any
${extra}scripts:
${scripts}`);
}

function judge(
  policy: ReturnType<typeof policyOf>,
  name: string,
  version: string,
  bundles: VerifiedBundle[],
  facts: Partial<PackageFacts> = {},
  modeOverride?: Mode,
): Decision {
  return evaluate({
    policy,
    package: {
      name,
      version,
      source: 'npm',
      registry: 'https://registry.example.org',
      buildSteps: ['postinstall'],
      ...facts,
    },
    evidence: evidenceFor(name, version, bundles),
    now: NOW,
    ...(modeOverride ? { modeOverride } : {}),
  });
}

const tagged = (tag: string) =>
  githubBundle({
    claims: {
      sourceRepositoryRef: `refs/tags/${tag}`,
      buildSignerUri: `https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/tags/${tag}`,
    },
  });

describe('scripts: build steps', () => {
  it('are the lifecycle scripts a package lists, and node-gyp for a binding.gyp without an install script', () => {
    assert.deepEqual(buildStepsOf({ postinstall: 'node x.js', test: 'x' }, false), ['postinstall']);
    assert.deepEqual(buildStepsOf({}, true), [NODE_GYP_BUILD]);
    assert.deepEqual(buildStepsOf({ install: 'prebuild-install' }, true), ['install']);
    assert.deepEqual(buildStepsOf({ preinstall: 'a', postinstall: 'b' }, true), [
      'preinstall',
      'postinstall',
      NODE_GYP_BUILD,
    ]);
    assert.deepEqual(buildStepsOf({ postinstall: 42 }, false), []);
    assert.deepEqual(buildStepsOf(undefined, false), []);
  });
});

describe('scripts: approvals bound to a signer', () => {
  const policy = policyWith(approvals);

  it('run the build of a release signed by the approved identity', () => {
    const d = judge(policy, 'native-thing', '1.0.0', [tagged('v1.0.0')]);
    assert.equal(d.verdict, 'allow');
    assert.equal(d.scripts?.verdict, 'run');
    assert.equal(d.scripts?.by, 'signer');
    assert.equal(d.scripts?.allowance?.index, 0);
    assert.deepEqual(d.scripts?.steps, ['postinstall']);
  });

  it('run the next version from the same identity with no new approval', () => {
    const d = judge(policy, 'native-thing', '1.1.0', [tagged('v1.1.0')]);
    assert.equal(d.scripts?.verdict, 'run');
  });

  it('withhold the build of a version signed by another repository, whatever its name, and say where it differs', () => {
    const d = judge(policy, 'native-thing', '1.2.0', [
      githubBundle({
        claims: {
          sourceRepositoryUri: 'https://github.com/mallory/sigstore-js',
          buildSignerUri:
            'https://github.com/mallory/sigstore-js/.github/workflows/release.yml@refs/heads/main',
        },
      }),
    ]);
    assert.equal(d.verdict, 'allow', 'the package itself is allowed: only its build is withheld');
    assert.equal(d.scripts?.verdict, 'withhold');
    assert.equal(d.scripts?.mode, 'enforce');
    assert.match(d.scripts!.message, /which scripts\.allow\[0\] does not approve \(differs in repository\)/);
    assert.ok(d.scripts?.checks?.some((c) => c.field === 'repository' && !c.ok));
  });

  it('withhold the build of an unsigned version', () => {
    const d = judge(policy, 'native-thing', '1.3.0', []);
    assert.equal(d.scripts?.verdict, 'withhold');
    assert.match(d.scripts!.message, /carries no verified signature/);
  });

  it("do not count npm's publish attestation as the publisher's signature", () => {
    const d = judge(policy, 'native-thing', '1.3.1', [publishAttestation()]);
    assert.equal(d.scripts?.verdict, 'withhold');
  });

  it('count only signatures verified by a trust root the rule (or the allowance) accepts', () => {
    const d = judge(policy, 'native-thing', '1.4.0', [
      githubBundle({ trustRoot: 'elsewhere', claims: { sourceRepositoryRef: 'refs/tags/v1.4.0' } }),
    ]);
    assert.equal(d.scripts?.verdict, 'withhold');
    assert.match(d.scripts!.message, /trust root/);
  });

  it('apply only to the versions they name; others fall to the default', () => {
    assert.equal(judge(policy, 'old-tool', '1.9.0', [tagged('v1.9.0')]).scripts?.verdict, 'run');
    const d = judge(policy, 'old-tool', '2.0.0', [tagged('v2.0.0')]);
    assert.equal(d.scripts?.verdict, 'withhold');
    assert.equal(d.scripts?.by, 'default');
  });

  it('take the mode of the allowance that names the package', () => {
    const d = judge(policy, 'warned-thing', '1.0.0', [
      emailBundle('other@example.com', 'https://issuer.example'),
    ]);
    assert.equal(d.scripts?.verdict, 'withhold');
    assert.equal(d.scripts?.mode, 'warn');
    assert.equal(d.scripts?.modeFrom, 'allowance');
  });

  it('follow a caller override of the mode, and withhold nothing when it is off', () => {
    assert.equal(judge(policy, 'left-pad', '1.0.0', [], {}, 'warn').scripts?.mode, 'warn');
    const off = judge(policy, 'left-pad', '1.0.0', [], {}, 'off');
    assert.equal(off.scripts?.verdict, 'run');
    assert.equal(off.scripts?.by, 'off');
  });
});

describe('scripts: approvals bound to a digest or a source', () => {
  const policy = policyWith(approvals);

  it('run exactly the approved tarball, and say that no signer vouches for it', () => {
    const d = judge(policy, 'pinned-blob', '1.0.0', [], { integrity: DIGEST });
    assert.equal(d.scripts?.verdict, 'run');
    assert.equal(d.scripts?.by, 'integrity');
    assert.match(d.scripts!.message, /not by who signs it/);
  });

  it('withhold any other tarball of that package', () => {
    const d = judge(policy, 'pinned-blob', '1.0.1', [], { integrity: OTHER_DIGEST });
    assert.equal(d.scripts?.verdict, 'withhold');
    assert.match(d.scripts!.message, /approves only the tarball/);
  });

  it('run a git dependency from the allowed repository, and withhold one from another', () => {
    const ok = judge(policy, 'from-git', '1.0.0', [], {
      source: 'git',
      sourceUrl: 'https://github.com/acme/from-git.git#commit=abc',
    });
    assert.equal(ok.scripts?.verdict, 'run');
    assert.equal(ok.scripts?.by, 'source');
    const other = judge(policy, 'from-git', '1.0.0', [], {
      source: 'git',
      sourceUrl: 'https://github.com/mallory/from-git.git#commit=abc',
    });
    assert.equal(other.scripts?.verdict, 'withhold');
  });
});

describe('scripts: the default', () => {
  it('is deny: a package no allowance names does not run its build, however it is signed', () => {
    const policy = policyOf('version: 1\n');
    assert.equal(policy.scripts.default, 'deny');
    const d = judge(policy, 'left-pad', '1.0.0', [tagged('v1.0.0')]);
    assert.equal(d.verdict, 'allow');
    assert.equal(d.scripts?.verdict, 'withhold');
    assert.equal(d.scripts?.mode, 'enforce', "the policy's mode, when the section sets none");
  });

  it('allow-verified runs the build of a package allowed on a signature or provenance, and only that', () => {
    const policy = policyWith('  default: allow-verified\n  mode: warn\n');
    const signed = judge(policy, 'signed-lib', '1.0.0', [
      emailBundle('dev@example.com', 'https://issuer.example'),
    ]);
    assert.equal(signed.scripts?.verdict, 'run');
    const unsigned = judge(policy, 'plain-lib', '1.0.0', [
      emailBundle('dev@example.com', 'https://issuer.example'),
    ]);
    assert.equal(unsigned.verdict, 'allow');
    assert.equal(
      unsigned.scripts?.verdict,
      'run',
      'signers: any under the defaults: a verified signature counts',
    );
    const none = judge(policy, 'plain-lib', '1.0.1', []);
    assert.equal(none.scripts?.verdict, 'withhold');
    assert.equal(none.scripts?.mode, 'warn');
    const denied = judge(policy, 'signed-lib', '1.0.1', []);
    assert.equal(denied.verdict, 'deny');
    assert.equal(denied.scripts?.verdict, 'withhold');
  });

  it('allow runs the build of every package the gate allows, but never a git or exec source without an allowance', () => {
    const policy = policyWith('  default: allow\n');
    assert.equal(judge(policy, 'left-pad', '1.0.0', []).scripts?.verdict, 'run');
    const git = judge(policy, 'some-git', '1.0.0', [], {
      source: 'git',
      sourceUrl: 'https://github.com/x/y.git',
    });
    assert.equal(git.scripts?.verdict, 'withhold');
  });
});

describe('scripts: the section is validated', () => {
  const errorsOf = (scripts: string) => {
    const result = loadPolicy(`version: 1\nscripts:\n${scripts}`, '.tollgate.yml');
    assert.equal(result.ok, false);
    return result.ok ? [] : result.errors;
  };

  it('refuses an allowance bound to nothing, naming the command that writes one', () => {
    const [error] = errorsOf('  allow:\n    - package: a\n      reason: reviewed\n');
    assert.equal(error?.code, 'script-allowance-binding');
    assert.equal(error?.line, 4);
    assert.match(error?.suggestion ?? '', /yarn tollgate scripts approve/);
  });

  it('refuses an allowance bound twice', () => {
    const [error] = errorsOf(
      `  allow:\n    - package: a\n      integrity: ${DIGEST}\n      source: file\n      reason: reviewed\n`,
    );
    assert.equal(error?.code, 'script-allowance-binding');
  });

  it('refuses trust without signers, a repository outside git, an odd default and a malformed digest', () => {
    assert.equal(
      errorsOf(
        `  allow:\n    - package: a\n      integrity: ${DIGEST}\n      trust: [public-good]\n      reason: reviewed\n`,
      )[0]?.code,
      'trust-not-applicable',
    );
    assert.equal(
      errorsOf(
        '  allow:\n    - package: a\n      source: file\n      repository: github.com/a/b\n      reason: reviewed\n',
      )[0]?.code,
      'repository-not-applicable',
    );
    assert.ok(errorsOf('  default: allow-all\n').length > 0);
    assert.ok(
      errorsOf('  allow:\n    - package: a\n      integrity: sha256-abc\n      reason: reviewed\n').length >
        0,
    );
  });
});
