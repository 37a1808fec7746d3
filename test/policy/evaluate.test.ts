// Evaluation, table-driven: one policy exercising every feature, one row per behaviour.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VerifiedEvidence } from '../../policy/evidence/types';
import { type Decision, evaluate, type Mode, type PackageFacts } from '../../policy/index';
import {
  codes,
  emailBundle,
  evidenceFor,
  GITHUB_ISSUER,
  githubBundle,
  NOW,
  policyOf,
  publishAttestation,
} from './helpers';

const ACME = 'https://npm.acme.example';
const PUBLIC = 'https://registry.example.org';
const ACME_ISSUER = 'https://oidc.acme.example';

const policy = policyOf(`version: 1
mode: enforce
trustRoots:
  acme: { file: .tollgate/acme.json }
defaults:
  require: none
rules:
  - name: acme
    packages: ["@acme/*", "acme-*"]
    registries: [${ACME}]
    require: signature
    trust: [acme]
    signers:
      - issuer: ${ACME_ISSUER}
        subject: { glob: "*@acme.example" }
  - name: acme-legacy
    packages: ["@acme/legacy"]
    versions: "<2"
    require: none
    trust: [acme]
  - name: sigstore
    packages: [sigstore, "@sigstore/*"]
    versions: ">=2"
    require: provenance
    signers:
      - issuer: ${GITHUB_ISSUER}
        repository: github.com/sigstore/sigstore-js
        repositoryId: 495574555
        ownerId: 71096353
        workflow: .github/workflows/release.yml
        ref: refs/heads/main
        runner: github-hosted
        events: { deny: [pull_request_target] }
  - name: tagged
    packages: [tagged-pkg]
    require: provenance
    signers:
      - issuer: ${GITHUB_ISSUER}
        repository: github.com/sigstore/sigstore-js
        tag: v\${version}
  - name: signed-any
    packages: [anysig]
    require: signature
    signers: any
  - name: regsig
    packages: ["regsig-*"]
    require: registry-signature
  - name: fresh
    packages: [fresh]
    minReleaseAge: 3d
  - name: fresh-strict
    packages: [fresh-strict]
    minReleaseAge: 3d
    unsignedTimeFallback: false
  - name: gitdeps
    packages: [gitdep, gitdep-allowed]
    sources: [npm, git]
  - name: warned
    packages: [warned]
    mode: warn
    require: provenance
    signers: any
  - name: needs-provenance
    packages: [legacy-lib, old-exc]
    require: provenance
    signers: any
exceptions:
  - package: legacy-lib
    versions: 1.2.3
    reason: no provenance upstream
    ticket: SEC-123
    expires: 2025-12-31
  - package: old-exc
    reason: expired long ago
    expires: 2025-01-01
  - package: "@acme/confused"
    reason: testing the registry guard
    expires: 2025-12-31
scripts:
  allow:
    - package: gitdep-allowed
      source: git
      repository: github.com/acme/gitdep
      reason: our fork, packed by its prepare script (reviewed)
`);

const HOUR = 3600;
const nowSeconds = NOW.getTime() / 1000;

interface Row {
  name: string;
  pkg: PackageFacts;
  evidence?: VerifiedEvidence;
  modeOverride?: Mode;
  verdict: Decision['verdict'];
  rule: string;
  violations?: string[];
  infos?: string[];
  check?: (d: Decision) => void;
}

const npm = (
  name: string,
  version: string,
  registry = PUBLIC,
  extra: Partial<PackageFacts> = {},
): PackageFacts => ({
  name,
  version,
  source: 'npm',
  registry,
  ...extra,
});

const rows: Row[] = [
  {
    name: 'real sigstore-js provenance satisfies the pinned CI identity',
    pkg: npm('sigstore', '2.3.1'),
    evidence: evidenceFor('sigstore', '2.3.1', [githubBundle(), publishAttestation()]),
    verdict: 'allow',
    rule: 'sigstore',
    violations: [],
    check: (d) => {
      assert.equal(d.evidence.satisfied, 'provenance');
      assert.equal(d.identity?.claims['repository']?.value, 'github.com/sigstore/sigstore-js');
      assert.equal(d.identity?.claims['repository']?.from, 'certificate');
      assert.deepEqual(
        d.pinUpdates.map((u) => [u.kind, u.line, u.evidence]),
        [['first-use', '2', 'provenance']],
      );
      assert.equal(d.exceptionSnippet, undefined);
    },
  },
  {
    name: 'same package built in a fork is a signer mismatch',
    pkg: npm('sigstore', '2.3.1'),
    evidence: evidenceFor('sigstore', '2.3.1', [
      githubBundle({
        claims: {
          sourceRepositoryUri: 'https://github.com/evil/sigstore-js',
          sourceRepositoryIdentifier: '1',
          sourceRepositoryOwnerIdentifier: '2',
          buildConfigUri: 'https://github.com/evil/sigstore-js/.github/workflows/release.yml@refs/heads/main',
        },
      }),
    ]),
    verdict: 'deny',
    rule: 'sigstore',
    violations: ['signer-mismatch'],
    check: (d) => {
      const reason = d.reasons.find((r) => r.code === 'signer-mismatch')!;
      const failed = reason.checks!.filter((c) => !c.ok).map((c) => c.field);
      assert.deepEqual(failed, ['repository', 'repositoryId', 'ownerId']);
      assert.match(reason.expected!, /repository=github.com\/sigstore\/sigstore-js/);
      assert.match(reason.actual!, /repository=github.com\/evil\/sigstore-js/);
      assert.ok(d.exceptionSnippet);
    },
  },
  {
    name: 'a renamed repository with the same ids still fails on the name the policy pins',
    pkg: npm('sigstore', '2.3.1'),
    evidence: evidenceFor('sigstore', '2.3.1', [
      githubBundle({
        claims: { sourceRepositoryUri: 'https://github.com/sigstore/sigstore-javascript' },
        provenance: { repository: 'https://github.com/sigstore/sigstore-javascript' },
      }),
    ]),
    verdict: 'deny',
    rule: 'sigstore',
    violations: ['signer-mismatch'],
  },
  {
    name: 'a refused trigger event (pull_request_target) is a signer mismatch',
    pkg: npm('sigstore', '2.3.1'),
    evidence: evidenceFor('sigstore', '2.3.1', [
      githubBundle({
        claims: { buildTrigger: 'pull_request_target' },
        provenance: { event: 'pull_request_target' },
      }),
    ]),
    verdict: 'deny',
    rule: 'sigstore',
    violations: ['signer-mismatch'],
    check: (d) =>
      assert.deepEqual(
        d.reasons[0]!.checks!.filter((c) => !c.ok).map((c) => c.field),
        ['events'],
      ),
  },
  {
    name: 'a self-hosted runner is a signer mismatch',
    pkg: npm('sigstore', '2.3.1'),
    evidence: evidenceFor('sigstore', '2.3.1', [
      githubBundle({ claims: { runnerEnvironment: 'self-hosted' }, provenance: { runner: 'self-hosted' } }),
    ]),
    verdict: 'deny',
    rule: 'sigstore',
    violations: ['signer-mismatch'],
  },
  {
    name: 'another workflow file is a signer mismatch',
    pkg: npm('sigstore', '2.3.1'),
    evidence: evidenceFor('sigstore', '2.3.1', [
      githubBundle({
        claims: {
          buildConfigUri: 'https://github.com/sigstore/sigstore-js/.github/workflows/ci.yml@refs/heads/main',
        },
        provenance: { workflowPath: '.github/workflows/ci.yml' },
      }),
    ]),
    verdict: 'deny',
    rule: 'sigstore',
    violations: ['signer-mismatch'],
  },
  {
    name: 'provenance contradicting its certificate is a provenance mismatch and only a signature',
    pkg: npm('sigstore', '2.3.1'),
    evidence: evidenceFor('sigstore', '2.3.1', [githubBundle({ provenance: { ref: 'refs/heads/evil' } })]),
    verdict: 'deny',
    rule: 'sigstore',
    violations: ['provenance-mismatch', 'evidence-insufficient'],
    check: (d) => {
      assert.equal(d.evidence.satisfied, 'signature');
      const r = d.reasons.find((x) => x.code === 'provenance-mismatch')!;
      assert.match(r.expected!, /refs\/heads\/main \(certificate\)/);
    },
  },
  {
    name: 'claims the certificate lacks are never read from the provenance, which the signer wrote',
    pkg: npm('sigstore', '2.3.1'),
    evidence: evidenceFor('sigstore', '2.3.1', [
      githubBundle({
        claims: { sourceRepositoryIdentifier: undefined, sourceRepositoryOwnerIdentifier: undefined },
        provenance: { repositoryId: '495574555', repositoryOwnerId: '71096353' },
      }),
    ]),
    verdict: 'deny',
    rule: 'sigstore',
    violations: ['signer-mismatch'],
    check: (d) => {
      assert.equal(d.identity?.claims['repositoryId'], undefined);
      const mismatch = d.reasons.find((r) => r.code === 'signer-mismatch')!;
      assert.match(mismatch.actual!, /repositoryId=\(absent\)/);
    },
  },
  {
    name: 'a signature where provenance is required is insufficient',
    pkg: npm('sigstore', '2.3.1'),
    evidence: evidenceFor('sigstore', '2.3.1', [githubBundle({ kind: 'signature' })]),
    verdict: 'deny',
    rule: 'sigstore',
    violations: ['evidence-insufficient'],
  },
  {
    name: 'no evidence where provenance is required is a denial',
    pkg: npm('sigstore', '2.3.1'),
    verdict: 'deny',
    rule: 'sigstore',
    violations: ['evidence-missing'],
  },
  {
    name: 'versions outside the range fall to the defaults',
    pkg: npm('sigstore', '1.9.0'),
    verdict: 'allow',
    rule: 'defaults',
    violations: [],
    check: (d) => assert.match(d.precedence, /defaults/),
  },
  {
    name: 'prereleases are inside ranges (>=2 covers 3.0.0-rc.1)',
    pkg: npm('sigstore', '3.0.0-rc.1'),
    verdict: 'deny',
    rule: 'sigstore',
    violations: ['evidence-missing'],
  },
  {
    name: 'the scope glob covers @sigstore/* too',
    pkg: npm('@sigstore/verify', '2.0.0'),
    verdict: 'deny',
    rule: 'sigstore',
    violations: ['evidence-missing'],
  },
  {
    name: 'internal package from its registry, signed by an internal identity under the internal root',
    pkg: npm('@acme/foo', '1.0.0', ACME),
    evidence: evidenceFor('@acme/foo', '1.0.0', [emailBundle('dev@acme.example', ACME_ISSUER, 'acme')]),
    verdict: 'allow',
    rule: 'acme',
    violations: [],
    check: (d) => assert.equal(d.registryBinding?.allowed, true),
  },
  {
    name: 'registry URLs compare normalised (case, default port, trailing slash)',
    pkg: npm('acme-tools', '1.0.0', 'HTTPS://NPM.ACME.EXAMPLE:443'),
    evidence: evidenceFor('acme-tools', '1.0.0', [emailBundle('dev@acme.example', ACME_ISSUER, 'acme')]),
    verdict: 'allow',
    rule: 'acme',
  },
  {
    name: 'dependency confusion: a protected name from another registry is denied whatever its signature',
    pkg: npm('@acme/foo', '99.0.0', PUBLIC),
    evidence: evidenceFor('@acme/foo', '99.0.0', [emailBundle('dev@acme.example', ACME_ISSUER, 'acme')]),
    verdict: 'deny',
    rule: 'acme',
    violations: ['registry-not-allowed'],
    check: (d) => {
      assert.equal(d.registryBinding?.allowed, false);
      assert.equal(d.registryBinding?.actual, 'https://registry.example.org/');
      assert.match(d.exceptionSnippet!, /dependency-confusion guard/);
    },
  },
  {
    name: 'a protected name with an unknown registry is denied',
    pkg: { name: '@acme/foo', version: '1.0.0', source: 'npm' },
    evidence: evidenceFor('@acme/foo', '1.0.0', [emailBundle('dev@acme.example', ACME_ISSUER, 'acme')]),
    verdict: 'deny',
    rule: 'acme',
    violations: ['registry-unknown'],
  },
  {
    name: 'internal identity verified by the public-good root does not count for internal packages',
    pkg: npm('@acme/foo', '1.0.0', ACME),
    evidence: evidenceFor('@acme/foo', '1.0.0', [
      emailBundle('dev@acme.example', ACME_ISSUER, 'public-good'),
    ]),
    verdict: 'deny',
    rule: 'acme',
    violations: ['trust-root-not-allowed'],
  },
  {
    name: 'the subject glob is anchored: a look-alike domain does not match',
    pkg: npm('@acme/foo', '1.0.0', ACME),
    evidence: evidenceFor('@acme/foo', '1.0.0', [
      emailBundle('dev@acme.example.evil.example', ACME_ISSUER, 'acme'),
    ]),
    verdict: 'deny',
    rule: 'acme',
    violations: ['signer-mismatch'],
  },
  {
    name: 'a protected name from a git source is denied',
    pkg: {
      name: '@acme/foo',
      version: '1.0.0',
      source: 'git',
      locator: '@acme/foo@git+https://git.example/acme/foo.git',
    },
    verdict: 'deny',
    rule: 'acme',
    violations: ['source-not-allowed', 'registry-not-allowed', 'evidence-missing'],
  },
  {
    name: 'an exact name beats a glob (and the registry binding of the glob still applies)',
    pkg: npm('@acme/legacy', '1.0.0', ACME),
    verdict: 'allow',
    rule: 'acme-legacy',
    check: (d) => {
      assert.deepEqual(
        d.candidates.map((c) => c.rule.id),
        ['acme-legacy', 'acme'],
      );
      assert.match(d.precedence, /more specific than acme/);
      assert.equal(d.registryBinding?.rule.id, 'acme');
    },
  },
  {
    name: 'the exact-name rule does not unbind the registry',
    pkg: npm('@acme/legacy', '1.0.0', PUBLIC),
    verdict: 'deny',
    rule: 'acme-legacy',
    violations: ['registry-not-allowed'],
  },
  {
    name: 'tag coupling: built from refs/tags/v<version>',
    pkg: npm('tagged-pkg', '1.4.0'),
    evidence: evidenceFor('tagged-pkg', '1.4.0', [
      githubBundle({
        claims: { sourceRepositoryRef: 'refs/tags/v1.4.0' },
        provenance: { ref: 'refs/tags/v1.4.0' },
      }),
    ]),
    verdict: 'allow',
    rule: 'tagged',
  },
  {
    name: 'tag coupling: a tag of another version is refused',
    pkg: npm('tagged-pkg', '1.4.0'),
    evidence: evidenceFor('tagged-pkg', '1.4.0', [
      githubBundle({
        claims: { sourceRepositoryRef: 'refs/tags/v1.3.0' },
        provenance: { ref: 'refs/tags/v1.3.0' },
      }),
    ]),
    verdict: 'deny',
    rule: 'tagged',
    violations: ['signer-mismatch'],
    check: (d) => {
      const tag = d.reasons[0]!.checks!.find((c) => c.field === 'tag')!;
      assert.deepEqual([tag.expected, tag.actual, tag.ok], ['refs/tags/v1.4.0', 'refs/tags/v1.3.0', false]);
    },
  },
  {
    name: 'signers: any accepts any verified signer',
    pkg: npm('anysig', '1.0.0'),
    evidence: evidenceFor('anysig', '1.0.0', [
      emailBundle('someone@example.com', 'https://accounts.example'),
    ]),
    verdict: 'allow',
    rule: 'signed-any',
  },
  {
    name: 'signers: any still requires a signature',
    pkg: npm('anysig', '1.0.0'),
    evidence: evidenceFor('anysig', '1.0.0', [publishAttestation()]),
    verdict: 'deny',
    rule: 'signed-any',
    violations: ['evidence-insufficient'],
  },
  {
    name: 'registry-signature: a verified dist signature',
    pkg: npm('regsig-a', '1.0.0'),
    evidence: evidenceFor('regsig-a', '1.0.0', [], {
      registrySignatures: [{ keyId: 'SHA256:k', verified: true }],
    }),
    verdict: 'allow',
    rule: 'regsig',
  },
  {
    name: 'registry-signature: a publish attestation counts',
    pkg: npm('regsig-a', '1.0.0'),
    evidence: evidenceFor('regsig-a', '1.0.0', [publishAttestation()]),
    verdict: 'allow',
    rule: 'regsig',
  },
  {
    name: 'registry-signature: provenance satisfies the lower level',
    pkg: npm('regsig-a', '1.0.0'),
    evidence: evidenceFor('regsig-a', '1.0.0', [githubBundle()]),
    verdict: 'allow',
    rule: 'regsig',
  },
  {
    name: 'registry-signature: an unverified signature does not count',
    pkg: npm('regsig-a', '1.0.0'),
    evidence: evidenceFor('regsig-a', '1.0.0', [], {
      registrySignatures: [{ keyId: 'SHA256:k', verified: false }],
    }),
    verdict: 'deny',
    rule: 'regsig',
    violations: ['evidence-missing'],
  },
  {
    name: 'release age: too new by signed log time',
    pkg: npm('fresh', '1.0.0'),
    evidence: evidenceFor('fresh', '1.0.0', [githubBundle({ integratedTime: nowSeconds - HOUR })]),
    verdict: 'deny',
    rule: 'fresh',
    violations: ['release-too-new'],
    check: (d) => assert.equal(d.releaseTime?.source, 'transparency-log'),
  },
  {
    name: 'release age: the signed time wins over an older packument time',
    pkg: npm('fresh', '1.0.0', PUBLIC, { publishedAt: new Date(NOW.getTime() - 30 * 86_400_000) }),
    evidence: evidenceFor('fresh', '1.0.0', [githubBundle({ integratedTime: nowSeconds - HOUR })]),
    verdict: 'deny',
    rule: 'fresh',
    violations: ['release-too-new'],
  },
  {
    name: 'release age: old enough by signed time',
    pkg: npm('fresh', '1.0.0'),
    evidence: evidenceFor('fresh', '1.0.0', [githubBundle({ integratedTime: nowSeconds - 10 * 24 * HOUR })]),
    verdict: 'allow',
    rule: 'fresh',
    violations: [],
  },
  {
    name: 'release age: unsigned packument time as a labelled fallback',
    pkg: npm('fresh', '1.0.0', PUBLIC, { publishedAt: new Date(NOW.getTime() - 10 * 86_400_000) }),
    verdict: 'allow',
    rule: 'fresh',
    infos: ['release-time-unsigned'],
    check: (d) =>
      assert.deepEqual([d.releaseTime?.source, d.releaseTime?.signed], ['registry-publish-time', false]),
  },
  {
    name: 'release age: unknown time is a violation',
    pkg: npm('fresh', '1.0.0'),
    verdict: 'deny',
    rule: 'fresh',
    violations: ['release-age-unknown'],
  },
  {
    name: 'release age: fallback refused by the rule',
    pkg: npm('fresh-strict', '1.0.0', PUBLIC, { publishedAt: new Date(NOW.getTime() - 10 * 86_400_000) }),
    verdict: 'deny',
    rule: 'fresh-strict',
    violations: ['release-age-unknown'],
  },
  {
    name: 'sources: git allowed by its rule still needs its pack scripts allowed',
    pkg: { name: 'gitdep', version: '1.0.0', source: 'git', sourceUrl: 'https://github.com/acme/gitdep.git' },
    verdict: 'deny',
    rule: 'gitdeps',
    violations: ['source-scripts-not-allowed'],
  },
  {
    name: 'sources: git allowed by its rule, its repository allowed to run code by scripts.allow',
    pkg: {
      name: 'gitdep-allowed',
      version: '1.0.0',
      source: 'git',
      sourceUrl: 'git+https://github.com/acme/gitdep.git#commit=0123456789abcdef0123456789abcdef01234567',
    },
    verdict: 'allow',
    rule: 'gitdeps',
    infos: ['source-scripts-allowed'],
  },
  {
    name: 'sources: a scripts allowance for one repository does not cover another',
    pkg: {
      name: 'gitdep-allowed',
      version: '1.0.0',
      source: 'git',
      sourceUrl: 'https://github.com/mallory/gitdep.git',
    },
    verdict: 'deny',
    rule: 'gitdeps',
    violations: ['source-scripts-not-allowed'],
  },
  {
    name: "an unprotected alias of an unprotected package is nobody's concern",
    pkg: npm('plain', '1.0.0', PUBLIC, { linkNames: ['my-plain'] }),
    verdict: 'allow',
    rule: 'defaults',
    violations: [],
  },
  {
    name: 'a protected name that resolves to another package is an alias of a protected name',
    pkg: npm('plain', '1.0.0', PUBLIC, { linkNames: ['acme-utils'] }),
    verdict: 'deny',
    rule: 'defaults',
    violations: ['alias-of-protected-name'],
    check: (d) => assert.match(d.reasons[0]!.message, /acme-utils is protected by acme/),
  },
  {
    name: 'a patch of another package declared under a protected name is an alias of a protected name',
    pkg: {
      name: 'acme-utils',
      version: '1.0.0',
      source: 'patch',
      base: { name: 'plain', version: '1.0.0', source: 'npm', registry: PUBLIC },
    },
    evidence: evidenceFor('plain', '1.0.0', []),
    verdict: 'deny',
    rule: 'defaults',
    violations: ['alias-of-protected-name'],
  },
  {
    name: 'tampering found in the lockfile is its own violation, never waivable',
    pkg: npm('legacy-lib', '1.2.3', PUBLIC, {
      tampering: [
        {
          code: 'tampered-lockfile',
          message: 'yarn.lock resolves legacy-lib@^1 to evil@1.0.0',
          source: 'yarn.lock',
        },
      ],
    }),
    verdict: 'deny',
    rule: 'needs-provenance',
    violations: ['tampered-lockfile'],
    check: (d) => {
      assert.equal(d.exceptionSnippet, undefined);
      assert.deepEqual(d.exception?.waived, ['evidence-missing']);
    },
  },
  {
    name: 'sources: git refused by the defaults',
    pkg: { name: 'other', version: '1.0.0', source: 'git' },
    verdict: 'deny',
    rule: 'defaults',
    violations: ['source-not-allowed'],
  },
  {
    name: 'exec sources are refused by default',
    pkg: { name: 'other', version: '1.0.0', source: 'exec' },
    verdict: 'deny',
    rule: 'defaults',
    violations: ['source-not-allowed'],
  },
  {
    name: 'workspaces are always allowed, even under a protected name',
    pkg: { name: '@acme/app', version: '0.0.0', source: 'workspace' },
    verdict: 'allow',
    rule: 'acme',
    infos: ['workspace'],
  },
  {
    name: 'a patch is judged by its base package',
    pkg: {
      name: 'sigstore',
      version: '2.3.1',
      source: 'patch',
      locator: 'sigstore@patch:sigstore@2.3.1#./fix.patch',
      base: npm('sigstore', '2.3.1'),
    },
    evidence: evidenceFor('sigstore', '2.3.1', [githubBundle()]),
    verdict: 'allow',
    rule: 'sigstore',
    infos: ['patch-base', 'pin-first-use'],
    check: (d) => assert.deepEqual([d.package.source, d.judged.source], ['patch', 'npm']),
  },
  {
    name: 'a patch of an unsigned base is denied like the base',
    pkg: { name: 'sigstore', version: '2.3.1', source: 'patch', base: npm('sigstore', '2.3.1') },
    verdict: 'deny',
    rule: 'sigstore',
    violations: ['evidence-missing'],
  },
  {
    name: 'a patch with no known base is denied',
    pkg: { name: 'x', version: '1.0.0', source: 'patch' },
    verdict: 'deny',
    rule: 'defaults',
    violations: ['source-not-allowed'],
  },
  {
    name: 'a rule in warn mode warns',
    pkg: npm('warned', '1.0.0'),
    verdict: 'warn',
    rule: 'warned',
    violations: ['evidence-missing'],
    check: (d) => {
      assert.deepEqual([d.mode, d.modeFrom], ['warn', 'rule']);
      assert.ok(d.exceptionSnippet);
      assert.deepEqual(d.pinUpdates, []);
    },
  },
  {
    name: 'the caller can override every mode with off',
    pkg: npm('@acme/foo', '1.0.0', PUBLIC),
    modeOverride: 'off',
    verdict: 'allow',
    rule: 'acme',
    violations: ['registry-not-allowed', 'evidence-missing'],
    infos: ['mode-off'],
  },
  {
    name: 'the caller can override every mode with warn',
    pkg: npm('@acme/foo', '1.0.0', PUBLIC),
    modeOverride: 'warn',
    verdict: 'warn',
    rule: 'acme',
  },
  {
    name: 'an exception waives the violations of the exact version it names',
    pkg: npm('legacy-lib', '1.2.3'),
    verdict: 'allow',
    rule: 'needs-provenance',
    violations: [],
    infos: ['exception-applied'],
    check: (d) => {
      assert.deepEqual(d.exception?.waived, ['evidence-missing']);
      assert.equal(d.exception?.ticket, 'SEC-123');
      assert.equal(d.reasons.find((r) => r.code === 'evidence-missing')?.waivedBy?.exception, 0);
    },
  },
  {
    name: 'an exception does not cover other versions',
    pkg: npm('legacy-lib', '1.2.4'),
    verdict: 'deny',
    rule: 'needs-provenance',
    violations: ['evidence-missing'],
  },
  {
    name: 'an expired exception is a violation and waives nothing',
    pkg: npm('old-exc', '1.0.0'),
    verdict: 'deny',
    rule: 'needs-provenance',
    violations: ['evidence-missing', 'exception-expired'],
    check: (d) => assert.equal(d.exception?.expired, true),
  },
  {
    name: 'exceptions never waive a registry binding unless they list it',
    pkg: npm('@acme/confused', '1.0.0', PUBLIC),
    verdict: 'deny',
    rule: 'acme',
    violations: ['registry-not-allowed'],
    check: (d) => assert.deepEqual(d.exception?.waived, ['evidence-missing']),
  },
  {
    name: 'evidence that failed verification is a violation even where none is required',
    pkg: npm('plain', '1.0.0'),
    evidence: evidenceFor('plain', '1.0.0', [], {
      failures: [{ code: 'TLOG_INCLUSION_PROOF_ERROR', message: 'bad proof', source: 'attestations' }],
    }),
    verdict: 'deny',
    rule: 'defaults',
    violations: ['evidence-invalid'],
  },
  {
    name: 'altered bytes (a swapped tarball) are tampering, denied with no exception offered',
    pkg: npm('plain', '1.0.0'),
    evidence: evidenceFor('plain', '1.0.0', [], {
      failures: [
        { code: 'TARBALL_INTEGRITY_MISMATCH', message: 'replaced after publishing', source: 'registry' },
      ],
    }),
    verdict: 'deny',
    rule: 'defaults',
    violations: ['tampered-tarball'],
    check: (d) => assert.equal(d.exceptionSnippet, undefined),
  },
  {
    name: 'tampering is denied in warn mode too: only off checks nothing',
    pkg: npm('warned', '1.0.0'),
    evidence: evidenceFor('warned', '1.0.0', [], {
      failures: [
        { code: 'TARBALL_INTEGRITY_MISMATCH', message: 'replaced after publishing', source: 'registry' },
      ],
    }),
    verdict: 'deny',
    rule: 'warned',
    violations: ['evidence-missing', 'tampered-tarball'],
    check: (d) => assert.equal(d.mode, 'warn'),
  },
  {
    name: 'an exception waives no tampering, even when its waive list names every code',
    pkg: npm('legacy-lib', '1.2.3'),
    evidence: evidenceFor('legacy-lib', '1.2.3', [], {
      failures: [
        { code: 'LOCKFILE_CHECKSUM_MISMATCH', message: 'archive swapped', source: 'yarn.lock' },
        { code: 'MANIFEST_MISMATCH', message: 'package.json names evil', source: 'tarball' },
        {
          code: 'EVIDENCE_RECORD_MISMATCH',
          message: 'record says otherwise',
          source: '.tollgate.evidence.json',
        },
      ],
    }),
    verdict: 'deny',
    rule: 'needs-provenance',
    violations: ['tampered-archive', 'tampered-manifest', 'tampered-evidence-file'],
    check: (d) => {
      assert.deepEqual(d.exception?.waived, ['evidence-missing']);
      assert.equal(d.exceptionSnippet, undefined);
    },
  },
  {
    name: 'evidence for another package is refused',
    pkg: npm('plain', '1.0.0'),
    evidence: evidenceFor('plain', '1.0.1', []),
    verdict: 'deny',
    rule: 'defaults',
    violations: ['evidence-invalid'],
  },
  {
    name: 'an unlisted trust root is ignored, with a note, when the requirement is met anyway',
    pkg: npm('regsig-a', '1.0.0'),
    evidence: evidenceFor('regsig-a', '1.0.0', [githubBundle({ trustRoot: 'acme' })], {
      registrySignatures: [{ keyId: 'SHA256:k', verified: true }],
    }),
    verdict: 'allow',
    rule: 'regsig',
    infos: ['untrusted-evidence-ignored'],
  },
];

describe('evaluate', () => {
  for (const row of rows) {
    it(row.name, () => {
      const decision = evaluate({
        policy,
        package: row.pkg,
        ...(row.evidence ? { evidence: row.evidence } : {}),
        now: NOW,
        ...(row.modeOverride ? { modeOverride: row.modeOverride } : {}),
      });
      assert.equal(decision.verdict, row.verdict, JSON.stringify(decision.reasons, null, 1));
      assert.equal(decision.rule.id, row.rule);
      if (row.violations) assert.deepEqual(codes(decision).sort(), [...row.violations].sort());
      for (const info of row.infos ?? [])
        assert.ok(codes(decision, 'info').includes(info), `no ${info} note`);
      const altered =
        row.evidence?.failures.some((f) => /MISMATCH$/.test(f.code)) || row.pkg.tampering !== undefined;
      if (decision.verdict === 'deny' && !altered)
        assert.ok(decision.exceptionSnippet, 'a denial carries an exception snippet');
      row.check?.(decision);
      // Decisions are plain data: JSON round-trips without loss.
      assert.deepEqual(JSON.parse(JSON.stringify(decision)), decision);
    });
  }

  it('cites the deciding rule by file, line and column', () => {
    const d = evaluate({ policy, package: npm('sigstore', '2.3.1'), now: NOW });
    assert.deepEqual(
      [d.rule.location.file, d.rule.location.line, d.rule.location.column, d.rule.selector],
      ['.tollgate.yml', 21, 5, 'sigstore'],
    );
  });
});
