// Trust continuity: first use, identity changes, downgrades within a release line, approvals, and a
// deterministic, validated file format.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyPinUpdates,
  approvePinChange,
  emptyPins,
  evaluate,
  loadPins,
  type PinApproval,
  type Pins,
  releaseLine,
  serializePins,
} from '../../policy/index';
import {
  codes,
  emailBundle,
  evidenceFor,
  githubBundle,
  NOW,
  policyOf,
  publishAttestation,
  SIGSTORE_JS,
} from './helpers';

const policy = policyOf('version: 1\ndefaults:\n  require: none\n');
const FORK = {
  sourceRepositoryUri: 'https://github.com/evil/sigstore-js',
  sourceRepositoryIdentifier: '1',
  sourceRepositoryOwnerIdentifier: '2',
  buildConfigUri: 'https://github.com/evil/sigstore-js/.github/workflows/release.yml@refs/heads/main',
};

function decide(version: string, bundles: Parameters<typeof evidenceFor>[2], pins: Pins) {
  return evaluate({
    policy,
    package: { name: 'sigstore', version, source: 'npm', registry: 'https://registry.example.org' },
    evidence: evidenceFor('sigstore', version, bundles),
    pins,
    now: NOW,
  });
}

/** Pins after accepting sigstore@2.1.0 with provenance from the real identity. */
function pinnedAt(version = '2.1.0'): Pins {
  const first = decide(version, [githubBundle()], emptyPins());
  assert.equal(first.verdict, 'allow');
  return applyPinUpdates(emptyPins(), first.pinUpdates);
}

describe('release lines', () => {
  for (const [version, line] of [
    ['2.3.1', '2'],
    ['10.0.0-rc.1', '10'],
    ['0.4.2', '0.4'],
    ['0.0.3', '0.0'],
    ['not-a-version', undefined],
  ] as const) {
    it(`${version} -> ${line}`, () => assert.equal(releaseLine(version), line));
  }
});

describe('trust on first use', () => {
  it('records the complete identity (the CI subject without its ref) and the evidence level', () => {
    const pins = pinnedAt();
    assert.deepEqual(pins.packages['sigstore']?.['2'], {
      signers: [
        {
          since: '2.1.0',
          issuer: 'https://token.actions.githubusercontent.com',
          subject: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml',
          repository: 'github.com/sigstore/sigstore-js',
          repositoryId: '495574555',
          ownerId: '71096353',
          workflow: '.github/workflows/release.yml',
          ref: 'refs/heads/main',
          event: 'push',
          runner: 'github-hosted',
        },
      ],
      evidence: [{ since: '2.1.0', level: 'provenance' }],
    });
  });

  it('records absent claims as null and a tag ref as refs/tags/*', () => {
    const tagged = `${SIGSTORE_JS}/.github/workflows/release.yml@refs/tags/v2.1.0`;
    const first = decide(
      '2.1.0',
      [
        githubBundle({
          claims: {
            sourceRepositoryRef: 'refs/tags/v2.1.0',
            buildSignerUri: tagged,
            buildConfigUri: tagged,
            runnerEnvironment: undefined,
          },
          provenance: { ref: 'refs/tags/v2.1.0', runner: undefined },
        }),
      ],
      emptyPins(),
    );
    const pinned = applyPinUpdates(emptyPins(), first.pinUpdates).packages['sigstore']!['2']!.signers[0]!;
    assert.equal(pinned.subject, `${SIGSTORE_JS}/.github/workflows/release.yml`);
    assert.equal(pinned.ref, 'refs/tags/*');
    assert.equal(pinned.runner, null);
    assert.match(serializePins(applyPinUpdates(emptyPins(), first.pinUpdates)), /"runner": null/);
    // The next tag is the same identity.
    const next = `${SIGSTORE_JS}/.github/workflows/release.yml@refs/tags/v2.2.0`;
    const again = decide(
      '2.2.0',
      [
        githubBundle({
          claims: {
            sourceRepositoryRef: 'refs/tags/v2.2.0',
            buildSignerUri: next,
            buildConfigUri: next,
            runnerEnvironment: undefined,
          },
          provenance: { ref: 'refs/tags/v2.2.0', runner: undefined },
        }),
      ],
      applyPinUpdates(emptyPins(), first.pinUpdates),
    );
    assert.deepEqual(codes(again), []);
  });

  it('is idempotent', () => {
    const first = decide('2.1.0', [githubBundle()], emptyPins());
    const once = applyPinUpdates(emptyPins(), first.pinUpdates);
    assert.equal(serializePins(applyPinUpdates(once, first.pinUpdates)), serializePins(once));
  });

  it('proposes nothing when nothing new is learnt', () => {
    assert.deepEqual(decide('2.2.0', [githubBundle()], pinnedAt()).pinUpdates, []);
  });

  it('records a rise in evidence for the line', () => {
    const pins = applyPinUpdates(
      emptyPins(),
      decide('2.0.0', [publishAttestation()], emptyPins()).pinUpdates,
    );
    const upgrade = decide('2.1.0', [githubBundle()], pins);
    assert.deepEqual(
      upgrade.pinUpdates.map((u) => [u.kind, u.evidence, Boolean(u.signer)]),
      [['first-use', 'provenance', true]],
    );
  });
});

interface ContinuityRow {
  name: string;
  version: string;
  bundles: Parameters<typeof evidenceFor>[2];
  violations: string[];
}

const continuityRows: ContinuityRow[] = [
  { name: 'same identity, same evidence', version: '2.3.1', bundles: [githubBundle()], violations: [] },
  {
    name: 'identity moved to a fork',
    version: '2.3.1',
    bundles: [githubBundle({ claims: FORK })],
    violations: ['identity-changed'],
  },
  {
    name: 'same repository name, new repository id (deleted and re-created)',
    version: '2.3.1',
    bundles: [
      githubBundle({ claims: { sourceRepositoryIdentifier: '999' }, provenance: { repositoryId: '999' } }),
    ],
    violations: ['identity-changed'],
  },
  {
    name: 'another workflow',
    version: '2.3.1',
    bundles: [
      githubBundle({
        claims: {
          buildConfigUri:
            'https://github.com/sigstore/sigstore-js/.github/workflows/other.yml@refs/heads/main',
        },
        provenance: { workflowPath: '.github/workflows/other.yml' },
      }),
    ],
    violations: ['identity-changed'],
  },
  {
    name: 'provenance lost in a later version of the line',
    version: '2.3.1',
    bundles: [publishAttestation()],
    violations: ['evidence-downgrade'],
  },
  {
    name: 'everything lost in a later version of the line',
    version: '2.3.1',
    bundles: [],
    violations: ['evidence-downgrade'],
  },
  {
    name: 'an earlier version of the line without provenance is a downgrade (package scope)',
    version: '2.0.0',
    bundles: [publishAttestation()],
    violations: ['evidence-downgrade'],
  },
  {
    name: 'an older line without provenance is a downgrade (package scope)',
    version: '1.9.9',
    bundles: [publishAttestation()],
    violations: ['evidence-downgrade'],
  },
  {
    name: 'an older line, unsigned, is a downgrade (package scope)',
    version: '1.9.9',
    bundles: [],
    violations: ['evidence-downgrade'],
  },
  {
    name: 'an older line signed by another identity is an identity change',
    version: '1.9.9',
    bundles: [githubBundle({ claims: FORK })],
    violations: ['identity-changed'],
  },
  {
    name: 'the same repository and workflow from another branch is an identity change',
    version: '2.3.1',
    bundles: [
      githubBundle({
        claims: {
          sourceRepositoryRef: 'refs/heads/evil',
          buildSignerUri: `${SIGSTORE_JS}/.github/workflows/release.yml@refs/heads/evil`,
          buildConfigUri: `${SIGSTORE_JS}/.github/workflows/release.yml@refs/heads/evil`,
        },
        provenance: { ref: 'refs/heads/evil' },
      }),
    ],
    violations: ['identity-changed'],
  },
  {
    name: 'the same workflow triggered by another event is an identity change',
    version: '2.3.1',
    bundles: [
      githubBundle({
        claims: { buildTrigger: 'workflow_dispatch' },
        provenance: { event: 'workflow_dispatch' },
      }),
    ],
    violations: ['identity-changed'],
  },
  {
    name: 'the same workflow on a self-hosted runner is an identity change',
    version: '2.3.1',
    bundles: [
      githubBundle({ claims: { runnerEnvironment: 'self-hosted' }, provenance: { runner: 'self-hosted' } }),
    ],
    violations: ['identity-changed'],
  },
  {
    name: 'a new major without provenance looks like a hijack',
    version: '3.0.0',
    bundles: [publishAttestation()],
    violations: ['evidence-downgrade'],
  },
  {
    name: 'a new major from another identity',
    version: '3.0.0',
    bundles: [githubBundle({ claims: FORK })],
    violations: ['identity-changed'],
  },
  { name: 'a new major from the same identity', version: '3.0.0', bundles: [githubBundle()], violations: [] },
];

describe('continuity violations', () => {
  const pins = pinnedAt();
  for (const row of continuityRows) {
    it(row.name, () => {
      const decision = decide(row.version, row.bundles, pins);
      assert.deepEqual(codes(decision).sort(), [...row.violations].sort());
      assert.equal(decision.verdict, row.violations.length ? 'deny' : 'allow');
      if (row.violations.length) {
        assert.deepEqual(decision.pinUpdates, []);
        assert.ok(decision.approval, 'a continuity violation says what approve would record');
        assert.match(decision.exceptionSnippet!, /yarn tollgate approve sigstore@/);
      }
    });
  }

  it('release-line scope compares earlier versions and older lines with nothing (the narrower guard)', () => {
    const lineScoped = policyOf('version: 1\ndefaults:\n  continuity: release-line\n');
    for (const version of ['2.0.0', '1.9.9']) {
      const d = evaluate({
        policy: lineScoped,
        package: { name: 'sigstore', version, source: 'npm' },
        evidence: evidenceFor('sigstore', version, [publishAttestation()]),
        pins,
        now: NOW,
      });
      assert.deepEqual(codes(d), [], version);
    }
    const newMajor = evaluate({
      policy: lineScoped,
      package: { name: 'sigstore', version: '3.0.0', source: 'npm' },
      evidence: evidenceFor('sigstore', '3.0.0', [publishAttestation()]),
      pins,
      now: NOW,
    });
    assert.deepEqual(codes(newMajor), ['evidence-downgrade']);
  });

  it('another subject under the same issuer is an identity change', () => {
    const issuer = 'https://oidc.acme.example';
    const people = applyPinUpdates(
      emptyPins(),
      evaluate({
        policy,
        package: { name: 'acme-lib', version: '1.0.0', source: 'npm' },
        evidence: evidenceFor('acme-lib', '1.0.0', [emailBundle('alice@acme.example', issuer)]),
        now: NOW,
      }).pinUpdates,
    );
    const d = evaluate({
      policy,
      package: { name: 'acme-lib', version: '1.1.0', source: 'npm' },
      evidence: evidenceFor('acme-lib', '1.1.0', [emailBundle('mallory@acme.example', issuer)]),
      pins: people,
      now: NOW,
    });
    assert.deepEqual(codes(d), ['identity-changed']);
    assert.match(d.reasons[0]!.message, /subject/);
  });

  it('an entry of an older pins file is compared on what it recorded and then completed', () => {
    const legacy: Pins = {
      version: 1,
      packages: {
        sigstore: {
          '2': {
            signers: [
              {
                since: '2.1.0',
                issuer: 'https://token.actions.githubusercontent.com',
                repository: 'github.com/sigstore/sigstore-js',
                repositoryId: '495574555',
                ownerId: '71096353',
                workflow: '.github/workflows/release.yml',
              },
            ],
            evidence: [{ since: '2.1.0', level: 'provenance' }],
          },
        },
      },
    };
    const d = decide('2.3.1', [githubBundle()], legacy);
    assert.deepEqual(codes(d), []);
    assert.deepEqual(
      d.pinUpdates.map((u) => u.kind),
      ['identity-completed'],
    );
    const completed = applyPinUpdates(legacy, d.pinUpdates).packages['sigstore']!['2']!.signers;
    assert.equal(completed.length, 1);
    assert.equal(completed[0]!.since, '2.1.0');
    assert.equal(completed[0]!.event, 'push');
    assert.equal(completed[0]!.subject, `${SIGSTORE_JS}/.github/workflows/release.yml`);
    // Once complete, another trigger is an identity change.
    const later = decide(
      '2.3.2',
      [
        githubBundle({
          claims: { buildTrigger: 'pull_request_target' },
          provenance: { event: 'pull_request_target' },
        }),
      ],
      applyPinUpdates(legacy, d.pinUpdates),
    );
    assert.deepEqual(codes(later), ['identity-changed']);
  });

  it('can be switched off per rule', () => {
    const relaxed = policyOf('version: 1\ndefaults:\n  continuity: false\n');
    const d = evaluate({
      policy: relaxed,
      package: { name: 'sigstore', version: '2.3.1', source: 'npm' },
      evidence: evidenceFor('sigstore', '2.3.1', []),
      pins,
      now: NOW,
    });
    assert.deepEqual(codes(d), []);
    assert.deepEqual(d.pinUpdates, []);
  });
});

describe('approvals', () => {
  it('accepts an identity change from a version on, with the reason recorded', () => {
    const pins = pinnedAt();
    const denied = decide('2.4.0', [githubBundle({ claims: FORK })], pins);
    assert.equal(denied.verdict, 'deny');
    const approved = approvePinChange(pins, {
      ...denied.approval!,
      reason: 'repository moved, confirmed with maintainers',
      at: NOW,
      by: 'sec-team',
    });
    assert.ok(approved.ok);
    assert.equal(decide('2.4.0', [githubBundle({ claims: FORK })], approved.pins).verdict, 'allow');
    assert.equal(decide('2.5.0', [githubBundle({ claims: FORK })], approved.pins).verdict, 'allow');
    // Older versions keep the identity they were published with.
    assert.equal(decide('2.2.0', [githubBundle()], approved.pins).verdict, 'allow');
    assert.equal(decide('2.2.0', [githubBundle({ claims: FORK })], approved.pins).verdict, 'deny');
    const recorded = approved.pins.packages['sigstore']!['2']!.signers.at(-1)!;
    assert.deepEqual(recorded.approved, {
      reason: 'repository moved, confirmed with maintainers',
      at: NOW.toISOString(),
      by: 'sec-team',
    });
  });

  it('accepts a downgrade', () => {
    const pins = pinnedAt();
    const denied = decide('2.4.0', [publishAttestation()], pins);
    const approved = approvePinChange(pins, {
      ...denied.approval!,
      reason: 'provenance temporarily broken upstream',
      at: NOW,
    });
    assert.ok(approved.ok);
    assert.equal(decide('2.4.0', [publishAttestation()], approved.pins).verdict, 'allow');
  });

  for (const [name, change, code] of [
    ['without a reason', { reason: '  ' }, 'approval-reason-required'],
    ['for a non-semver version', { version: 'latest' }, 'approval-version-invalid'],
    ['approving nothing', { signer: undefined, evidence: undefined }, 'approval-empty'],
    ['at an invalid time', { at: new Date('nope') }, 'approval-time-invalid'],
  ] as const) {
    it(`refuses an approval ${name}`, () => {
      const base: PinApproval = {
        package: 'x',
        version: '1.0.0',
        evidence: 'none',
        reason: 'because it is fine',
        at: NOW,
      };
      const result = approvePinChange(emptyPins(), { ...base, ...change });
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.code, code);
    });
  }
});

describe('the pins file', () => {
  it('serialises deterministically whatever the insertion order', () => {
    const a = applyPinUpdates(emptyPins(), [
      {
        kind: 'first-use',
        package: 'zeta',
        version: '1.0.0',
        line: '1',
        evidence: 'signature',
        signer: { issuer: 'https://i.example', subject: 'a@b.example' },
      },
      { kind: 'first-use', package: 'alpha', version: '10.0.0', line: '10', evidence: 'provenance' },
      { kind: 'first-use', package: 'alpha', version: '9.0.0', line: '9', evidence: 'provenance' },
    ]);
    const b = applyPinUpdates(emptyPins(), [
      { kind: 'first-use', package: 'alpha', version: '9.0.0', line: '9', evidence: 'provenance' },
      { kind: 'first-use', package: 'alpha', version: '10.0.0', line: '10', evidence: 'provenance' },
      {
        kind: 'first-use',
        package: 'zeta',
        version: '1.0.0',
        line: '1',
        signer: { subject: 'a@b.example', issuer: 'https://i.example' },
        evidence: 'signature',
      },
    ]);
    const text = serializePins(a);
    assert.equal(serializePins(b), text);
    assert.ok(text.indexOf('"alpha"') < text.indexOf('"zeta"'));
    assert.ok(text.indexOf('"9"') < text.indexOf('"10"'), 'lines sort numerically');
    assert.ok(text.endsWith('}\n'));
  });

  it('round-trips through loadPins', () => {
    const pins = pinnedAt();
    const loaded = loadPins(serializePins(pins));
    assert.ok(loaded.ok);
    assert.deepEqual(loaded.pins, pins);
  });

  it('reads the file as Tollgate writes it exactly as a hand-edited copy of it', () => {
    const text = serializePins(pinnedAt());
    const written = loadPins(text);
    // A space before the last newline makes the same content take the location-keeping path.
    const edited = loadPins(text.replace(/\n$/, ' \n'));
    assert.ok(written.ok && edited.ok);
    assert.deepEqual(written.pins, edited.pins);
  });

  it('a duplicate key or a version on the wrong line is refused, located, even in written form', () => {
    const text = serializePins(pinnedAt());
    const duplicated = text.replace('"version": 1,', '"version": 1,\n  "version": 1,');
    const dup = loadPins(duplicated);
    assert.equal(dup.ok, false, 'a duplicate key is not read past');
    const [name] = Object.keys(pinnedAt().packages);
    const [line] = Object.keys(pinnedAt().packages[name!]!);
    const moved = loadPins(text.replace(`"${line}": {`, '"999": {'));
    assert.equal(moved.ok, false);
    assert.ok(!moved.ok && moved.errors.some((e) => e.code === 'pin-line-mismatch' && e.line > 1));
  });

  it('treats an empty file as empty pins', () => {
    const loaded = loadPins('');
    assert.ok(loaded.ok);
    assert.deepEqual(loaded.pins, emptyPins());
  });

  for (const [name, text, code, line] of [
    ['malformed JSON', '{"version": 1, "packages": {', 'yaml-syntax', 1],
    ['an unknown key', '{\n  "version": 1,\n  "packages": {},\n  "extra": true\n}', 'unknown-key', 4],
    [
      'a bad release line key',
      '{\n  "version": 1,\n  "packages": {\n    "a": {\n      "v2": { "signers": [], "evidence": [] }\n    }\n  }\n}',
      'invalid-value',
      5,
    ],
    [
      'a version filed under the wrong line',
      '{\n  "version": 1,\n  "packages": {\n    "a": {\n      "2": {\n        "signers": [],\n        "evidence": [{ "since": "3.0.0", "level": "signature" }]\n      }\n    }\n  }\n}',
      'pin-line-mismatch',
      7,
    ],
    [
      'an unknown evidence level',
      '{"version":1,"packages":{"a":{"1":{"signers":[],"evidence":[{"since":"1.0.0","level":"great"}]}}}}',
      'invalid-value',
      1,
    ],
  ] as const) {
    it(`reports ${name} with a location`, () => {
      const loaded = loadPins(text, '.tollgate.pins.json');
      assert.equal(loaded.ok, false);
      const error = !loaded.ok ? loaded.errors.find((e) => e.code === code) : undefined;
      assert.ok(error, JSON.stringify(loaded));
      assert.equal(error.file, '.tollgate.pins.json');
      assert.equal(error.line, line);
    });
  }
});
