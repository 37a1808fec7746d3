// The configuration is validated with the policy's quality: file:line:column, the field, what was
// expected, a did-you-mean; the executable reports it in one clean message and exits 2.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseMonitorConfig } from '../../monitor/config/load';
import { Scope } from '../harness/scope';
import { runMonitor, temporary } from './support';

const VALID = `version: 1
logs:
  - name: acme-log
    url: http://127.0.0.1:8080
    trustedRoot: trusted_root.json
identities:
  - name: release-bot
    email: release-bot@acme.example
packages:
  - name: acme-utils
    registry: http://127.0.0.1:4873
    releases:
      - gitTags: { repository: https://git.acme.example/acme/utils.git }
`;

function errorsOf(text: string) {
  const result = parseMonitorConfig(text, 'monitor.yml', '/work/monitor.yml');
  assert.equal(result.ok, false, 'expected errors');
  return (result as Extract<typeof result, { ok: false }>).errors;
}

describe('monitor configuration', () => {
  const cleanup = new Scope();
  after(() => cleanup.close());

  test('a valid configuration compiles with its defaults', () => {
    const result = parseMonitorConfig(VALID, 'monitor.yml', '/work/monitor.yml');
    assert.ok(result.ok, JSON.stringify(result));
    const { config } = result as Extract<typeof result, { ok: true }>;
    assert.equal(config.logs[0]!.start, 'latest');
    assert.equal(config.logs[0]!.batchRead, 'auto');
    assert.equal(config.logs[0]!.trustedRoot, '/work/trusted_root.json');
    assert.equal(config.packages[0]!.registry, 'http://127.0.0.1:4873/');
    assert.deepEqual(config.packages[0]!.releases[0], {
      kind: 'git-tags',
      repository: 'https://git.acme.example/acme/utils.git',
      tag: `v${'$'}{version}`,
      location: { file: 'monitor.yml', line: 13, column: 9 },
    });
    assert.equal(config.identities[0]!.needle?.toString(), 'release-bot@acme.example');
    assert.equal(config.statePath, '/work/.tollgate-monitor.state.json');
  });

  const cases: {
    name: string;
    text: string;
    at: [number, number];
    code: string;
    field: string;
    suggestion?: RegExp;
  }[] = [
    {
      name: 'a misspelt key, with a did-you-mean',
      text: VALID.replace('    email:', '    emai:'),
      at: [8, 5],
      code: 'unknown-key',
      field: 'identities[0].emai',
      suggestion: /did you mean "email"\?/,
    },
    {
      name: 'a misspelt value, with a did-you-mean',
      text: VALID.replace(
        '    trustedRoot: trusted_root.json',
        '    trustedRoot: trusted_root.json\n    batchRead: retreive',
      ),
      at: [6, 16],
      code: 'invalid-value',
      field: 'logs[0].batchRead',
      suggestion: /did you mean "retrieve"\?/,
    },
    {
      name: 'an unanchored regex',
      text: VALID.replace(
        '    email: release-bot@acme.example',
        '    subject: { regex: "release-bot@acme" }',
      ),
      at: [8, 14],
      code: 'regex-unanchored',
      field: 'identities[0].subject',
      suggestion: /anchor it: \^release-bot@acme\$/,
    },
    {
      name: 'an identity that names nobody in particular',
      text: VALID.replace(
        '    email: release-bot@acme.example',
        '    issuer: https://token.actions.githubusercontent.com',
      ),
      at: [7, 5],
      code: 'identity-too-broad',
      field: 'identities[0]',
    },
    {
      name: 'a tag template without the version placeholder',
      text: VALID.replace(
        '{ repository: https://git.acme.example/acme/utils.git }',
        '{ repository: ./repo, tag: latest }',
      ),
      at: [13, 45],
      code: 'tag-template-invalid',
      field: 'packages[0].releases[0].gitTags.tag',
    },
    {
      name: 'releases from the policy without a policy',
      text: VALID.replace(
        '      - gitTags: { repository: https://git.acme.example/acme/utils.git }',
        '      - policy: true',
      ),
      at: [13, 17],
      code: 'policy-required',
      field: 'packages[0].releases[0].policy',
      suggestion: /add policy: \.tollgate\.yml/,
    },
    {
      name: 'a webhook backoff that is not a duration',
      text: `${VALID}notify:\n  webhook: { url: http://127.0.0.1:9/hook, backoff: soon }\n`,
      at: [15, 53],
      code: 'invalid-value',
      field: 'notify.webhook.backoff',
    },
    {
      name: 'two logs with one name',
      text: VALID.replace(
        'identities:',
        '  - name: acme-log\n    url: http://127.0.0.1:8081\n    trustedRoot: public-good\nidentities:',
      ),
      at: [6, 5],
      code: 'duplicate-name',
      field: 'logs[1]',
    },
    {
      name: 'a YAML syntax error',
      text: VALID.replace('  - name: release-bot', '  - name: [release-bot'),
      at: [8, 5],
      code: 'yaml-syntax',
      field: '(document)',
    },
  ];
  for (const c of cases) {
    test(`located error: ${c.name}`, () => {
      const errors = errorsOf(c.text);
      const error = errors.find((e) => e.code === c.code);
      assert.ok(error, `no ${c.code} among ${JSON.stringify(errors)}`);
      assert.deepEqual([error.line, error.column], c.at, JSON.stringify(error));
      assert.equal(error.field, c.field);
      if (c.suggestion) assert.match(error.suggestion ?? '', c.suggestion);
    });
  }

  test('the executable reports a bad configuration in one clean message and exits 2', async () => {
    const dir = temporary(cleanup, 'monitor-config');
    writeFileSync(join(dir, '.tollgate-monitor.yml'), VALID.replace('    email:', '    emai:'));
    for (const args of [[], ['check'], ['--once', '--json']]) {
      const res = await runMonitor(dir, args);
      assert.equal(res.code, 2, res.output);
      assert.match(
        res.stderr,
        /\.tollgate-monitor\.yml:8:5: error unknown-key: unknown key "emai" in identities\[0\]/,
      );
      assert.match(res.stderr, /suggestion: did you mean "email"\?/);
      assert.doesNotMatch(res.output, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
    }
  });

  test('the executable names a missing configuration, a missing trusted root and a bad flag', async () => {
    const dir = temporary(cleanup, 'monitor-config');
    const missing = await runMonitor(dir, []);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /the configuration \.tollgate-monitor\.yml does not exist; write one/);

    writeFileSync(join(dir, '.tollgate-monitor.yml'), VALID);
    const noRoot = await runMonitor(dir, ['check']);
    assert.equal(noRoot.code, 2);
    assert.match(
      noRoot.stderr,
      /\.tollgate-monitor\.yml:3:5: logs\[acme-log\]\.trustedRoot trusted_root\.json cannot be read \(ENOENT\)/,
    );

    const flag = await runMonitor(dir, ['--interval', 'often']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--interval must be a duration such as 60s or 5m, not "often"/);
    const unknown = await runMonitor(dir, ['--onse']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown option '--onse'/);
    assert.doesNotMatch(unknown.output, /\n\s+at .+:\d+:\d+\)?\n/);
  });
});
