// The policy summary (engine/policy-load.ts): what an install verdict needs of the policy, remembered
// by the policy's path and exact text once this machine's Tollgate validated it, so a warm install
// compiles no policy. A remembered summary stands only for that text; a planted or foreign entry, a
// policy with bases, or any change of the text means the policy is loaded and validated again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { loadCacheSecret } from '../../plugin/sources/engine/cache-secret';
import { loadConfiguredPolicy } from '../../plugin/sources/engine/configured-policy';
import { type LoadedPolicy, PolicySummaries } from '../../plugin/sources/engine/policy-load';
import { repoRoot, tempDir } from '../harness/paths';
import { settingsFor } from '../harness/tollgate-settings';

const POLICY = 'version: 1\nmode: enforce\ndefaults:\n  require: none\n';

function loaded(text: string): { settings: ReturnType<typeof settingsFor>; policy: LoadedPolicy } {
  const settings = settingsFor(text);
  return { settings, policy: loadConfiguredPolicy(settings) };
}

describe('policy summaries', () => {
  test('a validated policy is remembered for its path and exact text, and for nothing else', () => {
    const { settings, policy } = loaded(POLICY);
    const store = new PolicySummaries(settings.cacheFolder, loadCacheSecret());
    assert.equal(store.recall(settings.policyPath!, POLICY), null, 'nothing before it is remembered');
    store.remember(settings.policyPath!, policy);
    assert.deepEqual(store.recall(settings.policyPath!, POLICY), {
      verdictService: false,
      trustRootFiles: [],
      layers: [{ file: '.tollgate.yml', sha256: policy.policy.layers![0]!.sha256 }],
    });
    assert.equal(store.recall(settings.policyPath!, `${POLICY} `), null, 'another text');
    assert.equal(store.recall(`${settings.policyPath!}.other`, POLICY), null, 'another path');
  });

  test('it names the trust-root files the policy declares, resolved next to the policy, and a verdict service', () => {
    const text = `${POLICY}trustRoots:\n  acme:\n    file: roots/acme.json\nknownBad:\n  verdictService:\n    url: https://verdicts.invalid\n    publicKey: keys/verdicts.pem\n`;
    const { settings, policy } = loaded(text);
    const store = new PolicySummaries(settings.cacheFolder, loadCacheSecret());
    store.remember(settings.policyPath!, policy);
    const summary = store.recall(settings.policyPath!, text);
    assert.equal(summary?.verdictService, true);
    assert.deepEqual(summary?.trustRootFiles, [join(dirname(settings.policyPath!), 'roots/acme.json')]);
  });

  test('an entry written with another key, or planted, reads as absent', () => {
    const { settings, policy } = loaded(POLICY);
    new PolicySummaries(settings.cacheFolder, randomBytes(32)).remember(settings.policyPath!, policy);
    const store = new PolicySummaries(settings.cacheFolder, loadCacheSecret());
    assert.equal(store.recall(settings.policyPath!, POLICY), null, 'written under another key');
    const dir = join(settings.cacheFolder, 'policy-summaries');
    const [entry] = readdirSync(dir);
    assert.ok(entry);
    const raw = JSON.parse(readFileSync(join(dir, entry), 'utf8')) as { mac: string; body: string };
    const body = JSON.parse(raw.body) as { summary: { verdictService: boolean } };
    body.summary.verdictService = false;
    writeFileSync(join(dir, entry), JSON.stringify({ mac: raw.mac, body: JSON.stringify(body) }));
    assert.equal(store.recall(settings.policyPath!, POLICY), null, 'edited');
  });

  test('validity does not depend on the clock, so it may be remembered: an expired exception loads and is judged with the packages', () => {
    const text = `${POLICY}exceptions:\n  - package: legacy-lib\n    reason: reviewed\n    expires: 2000-01-31\n`;
    const { policy } = loaded(text);
    assert.equal(policy.policy.exceptions.length, 1);
  });

  test('a policy that extends a base is never remembered: its bases can change under the same text', () => {
    const text = `version: 1\nextends: base.yml\n`;
    const settings = settingsFor(text);
    writeFileSync(join(settings.projectCwd, 'base.yml'), POLICY);
    const policy = loadConfiguredPolicy(settings);
    assert.equal(policy.policy.layers?.length, 2);
    const store = new PolicySummaries(settings.cacheFolder, loadCacheSecret());
    store.remember(settings.policyPath!, policy);
    assert.equal(store.recall(settings.policyPath!, text), null);
  });
});

// In a child process per install, as Yarn runs one: whether gatePolicySummary compiled the policy is
// told by the CommonJS modules only the compiler loads (its generated schema validator, yaml).
function summaryInChild(project: string, cacheFolder: string): { summary: unknown; compiled: string[] } {
  const source = (path: string) => JSON.stringify(join(repoRoot, path));
  const script = `
    import { createRequire } from 'node:module';
    import { Configuration } from '@yarnpkg/core';
    import { npath } from '@yarnpkg/fslib';
    import { configuration } from ${source('plugin/sources/settings.ts')};
    import { gatePolicySummary } from ${source('plugin/sources/gate/gate-policy.ts')};
    const cwd = npath.toPortablePath(${JSON.stringify(project)});
    const conf = Configuration.create(cwd, cwd, new Map([['@yarnpkg/plugin-tollgate', { configuration }]]));
    conf.use('<test>', { tollgatePolicyPath: '.tollgate.yml', tollgateCacheFolder: npath.toPortablePath(${JSON.stringify(cacheFolder)}) }, cwd, { overwrite: true });
    try {
      const summary = await gatePolicySummary(conf);
      const compiled = Object.keys(createRequire(import.meta.url).cache).filter((p) => /validate-policy\\.cjs|[\\\\/]yaml[\\\\/]dist[\\\\/]/.test(p));
      process.stdout.write(JSON.stringify({ summary, compiled }));
    } catch (err) {
      process.stdout.write(JSON.stringify({ error: err.message }));
    }
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  const answer = JSON.parse(out) as { summary?: unknown; compiled?: string[]; error?: string };
  if (answer.error !== undefined) throw new Error(answer.error);
  return answer as { summary: unknown; compiled: string[] };
}

describe('the gate and the policy summary', () => {
  const project = tempDir('policy-summary-project');
  const cacheFolder = tempDir('policy-summary-cache');
  mkdirSync(project, { recursive: true });
  const policyPath = join(project, '.tollgate.yml');

  test('the first install compiles the policy; the next, with the same text, compiles nothing', () => {
    writeFileSync(policyPath, POLICY);
    const first = summaryInChild(project, cacheFolder);
    assert.notDeepEqual(first.compiled, [], 'the policy was compiled');
    const second = summaryInChild(project, cacheFolder);
    assert.deepEqual(second.compiled, [], 'nothing of the compiler was loaded');
    assert.deepEqual(second.summary, first.summary);
  });

  test('an edited policy is validated again, and an invalid one stops the gate whatever was remembered', () => {
    writeFileSync(policyPath, POLICY);
    summaryInChild(project, cacheFolder);
    writeFileSync(policyPath, `${POLICY}# reviewed\n`);
    assert.notDeepEqual(summaryInChild(project, cacheFolder).compiled, [], 'another text is compiled');
    writeFileSync(policyPath, `${POLICY}rules: 3\n`);
    assert.throws(() => summaryInChild(project, cacheFolder), /the policy \.tollgate\.yml is invalid/);
  });
});
