// `publish --dry-run` tells the certificate's identity without a token request
// (plugin/sources/signing/dry-run.ts): a given token is decoded, a dev identity is the email the dev
// issuer would mint, GitHub Actions is read from the runner's variables; no source is the same error the
// publish would give.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { foreseeIdentity, GITHUB_ACTIONS_ISSUER } from '../../plugin/sources/signing/dry-run';
import type { SigningError } from '../../plugin/sources/signing/errors';

const jwt = (claims: Record<string, unknown>) =>
  `${['{"alg":"none"}', JSON.stringify(claims)].map((p) => Buffer.from(p).toString('base64url')).join('.')}.`;

const ACTIONS = {
  GITHUB_ACTIONS: 'true',
  GITHUB_REPOSITORY: 'acme/ui',
  GITHUB_WORKFLOW_REF: 'acme/ui/.github/workflows/release.yml@refs/tags/v1.0.0',
  GITHUB_REF: 'refs/tags/v1.0.0',
  GITHUB_EVENT_NAME: 'push',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.invalid/',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'secret',
};

describe('publish --dry-run: the identity, foreseen', () => {
  test('an email token is decoded: its email and issuer', () => {
    const id = foreseeIdentity({
      identityToken: jwt({ iss: 'https://issuer.example', email: 'a@acme.example' }),
      env: {},
    });
    assert.deepEqual(
      [id.subject, id.issuer, id.source, id.kind],
      ['a@acme.example', 'https://issuer.example', '--identity-token', 'publish'],
    );
    assert.match(id.note, /decoded, not sent/);
  });

  test('SIGSTORE_ID_TOKEN of a workflow: the job workflow URI, provenance in GitHub Actions', () => {
    const token = jwt({
      iss: GITHUB_ACTIONS_ISSUER,
      job_workflow_ref: 'acme/ui/.github/workflows/release.yml@refs/tags/v1.0.0',
      workflow_ref: 'x',
    });
    const id = foreseeIdentity({ env: { ...ACTIONS, SIGSTORE_ID_TOKEN: token } });
    assert.equal(id.subject, 'https://github.com/acme/ui/.github/workflows/release.yml@refs/tags/v1.0.0');
    assert.equal(id.source, 'SIGSTORE_ID_TOKEN');
    assert.equal(id.kind, 'provenance');
  });

  test('GitHub Actions: the token is not requested; the subject comes from GITHUB_WORKFLOW_REF', () => {
    const id = foreseeIdentity({ env: ACTIONS });
    assert.deepEqual(
      [id.source, id.subject, id.issuer, id.kind],
      [
        'github-actions',
        'https://github.com/acme/ui/.github/workflows/release.yml@refs/tags/v1.0.0',
        GITHUB_ACTIONS_ISSUER,
        'provenance',
      ],
    );
    assert.match(id.note, /not requested/);
    assert.equal(foreseeIdentity({ env: ACTIONS, provenance: false }).kind, 'publish');
  });

  test('a dev identity: the email, issued by the server it names', () => {
    const id = foreseeIdentity({
      devIdentity: 'r@acme.example',
      devIssuerServer: 'http://127.0.0.1:9',
      env: {},
    });
    assert.deepEqual([id.subject, id.issuer], ['r@acme.example', 'http://127.0.0.1:9/oidc']);
    assert.throws(
      () => foreseeIdentity({ devIdentity: 'r@acme.example', env: {} }),
      /needs a tollgate-server/,
    );
  });

  test('no source, a token that is not a JWT, provenance outside CI: the errors the publish would give', () => {
    assert.throws(
      () => foreseeIdentity({ env: {} }),
      (e: unknown) => (e as SigningError).code === 'NO_IDENTITY_TOKEN',
    );
    assert.throws(() => foreseeIdentity({ identityToken: 'nope', env: {} }), /not a JWT/);
    assert.throws(
      () => foreseeIdentity({ identityToken: jwt({ email: 'a@b' }), provenance: true, env: {} }),
      (e: unknown) => (e as SigningError).code === 'PROVENANCE_UNAVAILABLE',
    );
  });
});
