// Explanations: text for terminals, JSON for tools, and an exception snippet that really works.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DECISION_JSON_FORMAT,
  evaluate,
  loadPolicy,
  renderDecisionJson,
  renderDecisionsText,
  renderDecisionText,
  unusedExceptions,
} from '../../policy/index';
import { evidenceFor, githubBundle, NOW, policyOf } from './helpers';

const POLICY = `version: 1
rules:
  - name: sigstore
    packages: [sigstore]
    require: provenance
    signers:
      - issuer: https://token.actions.githubusercontent.com
        repository: github.com/sigstore/sigstore-js
exceptions:
  - package: unrelated
    reason: never used
    expires: 2025-12-31
`;
const FORK = {
  sourceRepositoryUri: 'https://github.com/evil/sigstore-js',
  buildConfigUri: 'https://github.com/evil/sigstore-js/.github/workflows/release.yml@refs/heads/main',
};

function denied() {
  return evaluate({
    policy: policyOf(POLICY),
    package: { name: 'sigstore', version: '2.3.1', source: 'npm', registry: 'https://registry.example.org' },
    evidence: evidenceFor('sigstore', '2.3.1', [githubBundle({ claims: FORK })]),
    now: NOW,
  });
}

describe('renderers', () => {
  it('explains a denial in text: verdict, rule with file:line:column, expected vs actual, fix', () => {
    const text = renderDecisionText(denied());
    assert.match(text, /^DENY sigstore@2\.3\.1 \(npm from https:\/\/registry\.example\.org\)/);
    assert.match(text, /rule: sigstore at \.tollgate\.yml:3:5; mode enforce \(from policy\)/);
    assert.match(text, /\[violation\] signer-mismatch/);
    assert.match(
      text,
      /FAIL repository: expected github\.com\/sigstore\/sigstore-js, actual github\.com\/evil\/sigstore-js \(from certificate\)/,
    );
    assert.match(text, /ok {3}issuer/);
    assert.match(text, /add an exception/);
    assert.ok(!text.includes(String.fromCharCode(27)), 'no colour codes');
  });

  it('renders JSON with a format tag and every fact', () => {
    const decision = denied();
    const json = JSON.parse(renderDecisionJson(decision));
    assert.equal(json.format, DECISION_JSON_FORMAT);
    assert.equal(json.verdict, 'deny');
    assert.equal(json.rule.location.line, 3);
    assert.equal(json.reasons[0].code, 'signer-mismatch');
    assert.equal(json.exceptionSnippet, decision.exceptionSnippet);
  });

  it('summarises a run and shows only what did not pass', () => {
    const allowed = evaluate({
      policy: policyOf(POLICY),
      package: { name: 'other', version: '1.0.0', source: 'npm' },
      now: NOW,
    });
    const text = renderDecisionsText([allowed, denied()]);
    assert.match(text, /1 denied, 0 warned, 1 allowed$/);
    assert.doesNotMatch(text, /ALLOW other/);
  });

  it('produces an exception snippet that, pasted into the policy, turns the denial into an allow', () => {
    const decision = denied();
    const snippet = decision.exceptionSnippet!;
    assert.match(snippet, /package: sigstore/);
    assert.match(snippet, /versions: 2\.3\.1/);
    assert.match(snippet, /expires: 2025-07-01/);
    const withException = `${POLICY.replace(/exceptions:[\s\S]*$/, '')}${snippet.replace(/^#.*\n/gm, '')}\n`;
    const loaded = loadPolicy(withException);
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
    const again = evaluate({
      policy: loaded.policy,
      package: { name: 'sigstore', version: '2.3.1', source: 'npm' },
      evidence: evidenceFor('sigstore', '2.3.1', [githubBundle({ claims: FORK })]),
      now: NOW,
    });
    assert.equal(again.verdict, 'allow');
    assert.deepEqual(again.exception?.waived, ['signer-mismatch']);
    assert.deepEqual(unusedExceptions(loaded.policy, [again]), []);
  });

  it('reports exceptions that waived nothing', () => {
    const policy = policyOf(POLICY);
    const unused = unusedExceptions(policy, [denied()]);
    assert.deepEqual(
      unused.map((d) => [d.code, d.line, d.field]),
      [['exception-unused', 10, 'exceptions[0]']],
    );
  });
});
