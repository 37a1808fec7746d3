// A signed policy base is verified by a verifier policy-bases.ts imports in prefetchPolicyBases (loading
// a policy is synchronous, and the verifier is kept out of what every Yarn command compiles). A load
// that did not go through the prefetch refuses the base rather than skipping its signature. Its own
// test file: the verifier, once imported, stays loaded for the rest of the process.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { policyBaseResolver, prefetchPolicyBases } from '../../plugin/sources/engine/policy-bases';
import { extendsReferencesOf, type Referrer } from '../../policy/extends';
import { tempDir } from '../harness/paths';
import { settingsFor } from '../harness/tollgate-settings';

process.env.XDG_STATE_HOME = tempDir('state');

test('a signed base is refused until the prefetch has loaded the verifier, then checked (here: its bundle is missing)', async () => {
  const policyText =
    'version: 1\nextends:\n  - path: base.yml\n    signers: [{ issuer: https://issuer.example, subject: a@example.com }]\n';
  const settings = settingsFor(policyText, true);
  const policyPath = settings.policyPath!;
  const projectCwd = settings.projectCwd;
  writeFileSync(join(projectCwd, 'base.yml'), 'version: 1\nmode: enforce\n');
  // the reference as the policy loader reads it
  const [reference] = extendsReferencesOf(policyText, '.tollgate.yml').references;
  assert.ok(reference?.signature, 'the policy names a signed base');
  const from: Referrer = { file: '.tollgate.yml', key: policyPath, dir: projectCwd, trustRoots: [] };

  const before = policyBaseResolver(settings)(reference, from);
  assert.ok('error' in before, 'refused without the verifier');
  assert.match(
    before.error,
    /its signature cannot be checked: the bases were not read before the policy was loaded/,
  );

  await prefetchPolicyBases(settings, policyText);
  const after = policyBaseResolver(settings)(reference, from);
  assert.ok('error' in after, 'still refused: there is no bundle');
  assert.match(after.error, /its bundle .*base\.yml\.sigstore\.json cannot be read \(ENOENT\)/);
});
