// The allowances `scripts approve` and `init` write: the stable part of the signing identity, from the
// certificate's claims only, and an edit of the policy that keeps its comments.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addAllowances, planApproval, signerEntryOf } from '../../plugin/sources/script-approvals';
import { evaluate, loadPolicy } from '../../policy/index';
import { emailBundle, evidenceFor, githubBundle, NOW, policyOf } from '../policy/helpers';

const policy = policyOf('version: 1\n');
const decide = (bundles: Parameters<typeof evidenceFor>[2], integrity?: string) =>
  evaluate({
    policy,
    package: {
      name: 'native',
      version: '1.0.0',
      source: 'npm',
      buildSteps: ['postinstall'],
      ...(integrity ? { integrity } : {}),
    },
    evidence: evidenceFor('native', '1.0.0', bundles),
    now: NOW,
  });

describe('script approvals written by commands', () => {
  it('bind a CI identity by repository, ids, workflow, any tag and runner, never by the tag it was built from', () => {
    const d = decide([
      githubBundle({
        claims: {
          sourceRepositoryRef: 'refs/tags/v1.0.0',
          buildSignerUri:
            'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/tags/v1.0.0',
        },
      }),
    ]);
    assert.deepEqual(signerEntryOf(d), {
      issuer: 'https://token.actions.githubusercontent.com',
      repository: 'github.com/sigstore/sigstore-js',
      repositoryId: '495574555',
      ownerId: '71096353',
      workflow: '.github/workflows/release.yml',
      ref: { glob: 'refs/tags/*' },
      runner: 'github-hosted',
    });
  });

  it('bind a person by issuer and subject', () => {
    const d = decide([emailBundle('dev@example.com', 'https://issuer.example')]);
    assert.deepEqual(signerEntryOf(d), { issuer: 'https://issuer.example', subject: 'dev@example.com' });
  });

  it('refuse an unsigned package unless asked for its digest, and then name only that tarball', () => {
    const digest = `sha512-${'C'.repeat(86)}==`;
    const d = decide([], digest);
    const refused = planApproval(d, { digest: false, reason: 'reviewed' });
    assert.equal(refused.ok, false);
    const plan = planApproval(d, { digest: true, reason: 'reviewed' });
    assert.ok(plan.ok);
    assert.deepEqual(plan.entry, { package: 'native', integrity: digest, reason: 'reviewed' });
  });

  it('add to scripts.allow without losing the policy comments, and the result approves the build', () => {
    const text = '# reviewed by the platform team\nversion: 1\nscripts:\n  default: deny # keep\n';
    const d = decide([emailBundle('dev@example.com', 'https://issuer.example')]);
    const plan = planApproval(d, { digest: false, reason: 'reviewed' });
    assert.ok(plan.ok);
    const out = addAllowances(text, [plan.entry]);
    assert.match(out, /# reviewed by the platform team/);
    assert.match(out, /default: deny # keep/);
    const loaded = loadPolicy(out, '.tollgate.yml');
    assert.ok(loaded.ok);
    const again = evaluate({
      policy: loaded.policy,
      package: { name: 'native', version: '2.0.0', source: 'npm', buildSteps: ['postinstall'] },
      evidence: evidenceFor('native', '2.0.0', [emailBundle('dev@example.com', 'https://issuer.example')]),
      now: NOW,
    });
    assert.equal(again.scripts?.verdict, 'run', 'the next version from the same identity');
  });
});
