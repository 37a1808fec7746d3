// `npm run demo`: the dependency-confusion story, end to end on this machine, with no internet.
// Real tollgate-server, two real Verdaccio registries (Acme's private one proxies the public one, as
// company registries do), real Yarn 4 with the Tollgate plugin. Exits 0 only if every step went as
// expected.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type BuiltPackage, buildPackage, markerName, type PackageSpec } from '../test/harness/packages';
import { tempDir } from '../test/harness/paths';
import type { RunResult } from '../test/harness/process';
import { type Registry, startRegistry } from '../test/harness/registry';
import { Scope } from '../test/harness/scope';
import { type SigstoreServer, startSigstoreServer, type TestIdentity } from '../test/harness/sigstore';
import { createYarnProject, type YarnProject } from '../test/harness/yarn-project';

const ACME_RELEASE_BOT: TestIdentity = { kind: 'email', email: 'release-bot@acme.example' };
const ATTACKER: TestIdentity = { kind: 'email', email: 'mallory@evil.example' };
const IS_EVEN_CI: TestIdentity = {
  kind: 'workflow',
  repository: 'even-maintainers/is-even',
  workflow: '.github/workflows/release.yml',
  ref: 'refs/tags/v1.0.0',
};

const tty = process.stdout.isTTY;
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[22m` : s);
const green = (s: string) => (tty ? `\x1b[32m${s}\x1b[39m` : s);
const red = (s: string) => (tty ? `\x1b[31m${s}\x1b[39m` : s);
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[22m` : s);

const steps: { name: string; ok: boolean; detail?: string }[] = [];

function section(title: string) {
  console.log(`\n${bold(`━━ ${title} `.padEnd(78, '━'))}`);
}

function say(text: string) {
  console.log(text);
}

function expect(name: string, ok: boolean, detail?: string) {
  steps.push({ name, ok, detail });
  say(`${ok ? green('✔') : red('✘')} ${name}${!ok && detail ? `\n${detail}` : ''}`);
}

/** The Yarn lines a person reads: Tollgate's (YN91xx) and the final status. */
function showYarn(command: string, res: RunResult, filter = /YN91\d\d|YN0009|Failed with errors|Done/) {
  say(dim(`$ ${command}   (exit ${res.code})`));
  for (const line of res.output.split('\n')) {
    if (filter.test(line)) say(`  ${line.replace(/^➤ /, '')}`);
  }
}

async function main() {
  const started = Date.now();
  const scope = new Scope();
  process.on('SIGINT', () => {
    void scope.close().finally(() => process.exit(130));
  });
  const markers = tempDir('demo-markers');
  const build = (spec: Omit<PackageSpec, 'postinstallMarkerDir'>) =>
    buildPackage({ ...spec, postinstallMarkerDir: markers });
  const ran = (name: string, version: string) => existsSync(join(markers, markerName(name, version)));

  try {
    section('1. Infrastructure: a Sigstore instance and two registries on 127.0.0.1');
    const server: SigstoreServer = await startSigstoreServer(scope, 'demo');
    const publicRegistry: Registry = await startRegistry(scope, 'public');
    const privateRegistry: Registry = await startRegistry(scope, 'acme-private', {
      uplink: publicRegistry.url,
    });
    say(`tollgate-server (CA, transparency log, OIDC dev issuer, attestation store): ${server.url}`);
    say(`public registry (stand-in for the public npm registry):                    ${publicRegistry.url}`);
    say(
      `Acme's private registry (also proxies the public one, as company proxies do): ${privateRegistry.url}`,
    );

    const publishSigned = async (registry: Registry, pkg: BuiltPackage, identity: TestIdentity) => {
      const bundle = await server.signPackage(pkg, identity, { registry: registry.url });
      await server.attach(pkg.name, pkg.version, bundle);
      await registry.publish(pkg);
      // protobuf JSON omits zero values: entry 0 of the log has no logIndex field.
      const logIndex = bundle.verificationMaterial?.tlogEntries?.[0]?.logIndex ?? '0';
      const who =
        identity.kind === 'email' ? identity.email : `${identity.repository} (${identity.workflow})`;
      say(
        `published ${pkg.name}@${pkg.version} to ${registry.label}, signed by ${who}, log index ${logIndex}`,
      );
    };

    section('2. Acme publishes its internal packages, signed keylessly by its release identity');
    await publishSigned(
      privateRegistry,
      await build({ name: '@acme/ui', version: '1.0.0' }),
      ACME_RELEASE_BOT,
    );
    await publishSigned(
      privateRegistry,
      await build({ name: 'acme-utils', version: '1.2.0' }),
      ACME_RELEASE_BOT,
    );

    section('3. Open source publishes to the public registry: one signed by its CI, one unsigned');
    await publishSigned(publicRegistry, await build({ name: 'is-even', version: '1.0.0' }), IS_EVEN_CI);
    await publicRegistry.publish(await build({ name: 'left-pad', version: '1.3.0' }));
    say(`published left-pad@1.3.0 to public, unsigned`);

    section('4. A developer adds Tollgate and lets `yarn tollgate init` write the policy');
    const project: YarnProject = await createYarnProject({
      registry: privateRegistry.url,
      scopes: { acme: privateRegistry.url },
      dependencies: {
        '@acme/ui': '^1.0.0',
        'acme-utils': '^1.2.0',
        'is-even': '^1.0.0',
        'left-pad': '^1.3.0',
      },
      withPlugin: true,
      yarnrc: { tollgateAttestationStores: [server.url] },
      files: { '.tollgate/acme-trusted_root.json': server.trustedRootJson },
    });
    say(dim(`project: ${project.dir}`));
    const lockOnly = await project.yarn(['install', '--mode=update-lockfile'], {
      env: { YARN_TOLLGATE_MODE: 'off' },
    });
    expect('yarn.lock resolved (nothing installed yet)', lockOnly.code === 0, lockOnly.output);
    const init = await project.yarn([
      'tollgate',
      'init',
      '--trusted-root',
      'acme=.tollgate/acme-trusted_root.json',
      '--internal',
      'acme-*',
    ]);
    showYarn('yarn tollgate init --trusted-root acme=… --internal "acme-*"', init, /YN9100/);
    expect('init wrote a policy', init.code === 0 && project.exists('.tollgate.yml'), init.output);

    // The review a security engineer does before committing the policy.
    const policy = parse(project.read('.tollgate.yml'));
    const ruleFor = (pattern: string) =>
      (policy.rules as Record<string, any>[]).find((r) => (r.packages as string[]).includes(pattern));
    const scopeRule = ruleFor('@acme/*');
    const utilsRule = ruleFor('acme-*');
    expect(
      'review: @acme/* and acme-* are bound to the private registry and must be signed by release-bot@acme.example',
      [scopeRule, utilsRule].every(
        (r) =>
          r?.registries?.[0] === privateRegistry.url &&
          r?.require === 'signature' &&
          r?.signers?.[0]?.subject === 'release-bot@acme.example',
      ),
      project.read('.tollgate.yml'),
    );
    expect(
      'review: is-even is pinned to its CI workflow; left-pad falls to the defaults',
      (ruleFor('is-even')?.signers?.[0]?.repository ?? '').endsWith('even-maintainers/is-even') &&
        ruleFor('left-pad') === undefined,
      project.read('.tollgate.yml'),
    );
    project.mergeYarnrc({ tollgatePolicyPath: '.tollgate.yml' });

    section('5. yarn install, guarded');
    const install = await project.yarn(['install']);
    showYarn('yarn install', install);
    expect(
      'the install passes and every signed package was verified',
      install.code === 0 && /3 on verified evidence/.test(install.output),
      install.output,
    );
    expect('acme-utils@1.2.0 is installed and its postinstall ran', ran('acme-utils', '1.2.0'));
    const goodLock = project.read('yarn.lock');
    const goodManifest = project.read('package.json');

    section('6. The attack: acme-utils@99.0.0 appears on the public registry, unsigned');
    await publicRegistry.publish(
      await build({ name: 'acme-utils', version: '99.0.0', files: { 'payload.js': 'steal()' } }),
    );
    say('the attacker published acme-utils@99.0.0 (with a postinstall) to the public registry;');
    say("Acme's proxy now offers it next to 1.2.0, and semver says 99 > 1.2");
    const up = await project.yarn(['up', 'acme-utils']);
    showYarn('yarn up acme-utils', up);
    expect(
      'yarn up is blocked: no verified signature by Acme for acme-utils@99.0.0',
      up.code === 1 &&
        /acme-utils@99\.0\.0 .*denied by rule internal-acme\b/.test(up.output) &&
        /evidence-missing/.test(up.output),
      up.output,
    );

    say('\nA pull request from a machine without Tollgate bumps the lockfile anyway; CI audits it:');
    const bump = await project.yarn(['up', 'acme-utils', '--mode=update-lockfile'], {
      env: { YARN_TOLLGATE_MODE: 'off' },
    });
    expect(
      '(the unguarded lockfile bump went through)',
      bump.code === 0 && /99\.0\.0/.test(project.read('yarn.lock')),
      bump.output,
    );
    const audit = await project.yarn(['tollgate', 'audit']);
    showYarn('yarn tollgate audit', audit, /YN91\d\d/);
    expect(
      'yarn tollgate audit fails (exit 1) and names acme-utils@99.0.0',
      audit.code === 1 && /acme-utils@99\.0\.0/.test(audit.output),
      audit.output,
    );
    const explain = await project.yarn(['tollgate', 'explain', 'acme-utils']);
    showYarn(
      'yarn tollgate explain acme-utils',
      explain,
      /YN9100: +(DENY|ALLOW|\s+rule:|\s+registry binding|\s+evidence:|\s+- \[violation\]|\s+expected|\s+actual)/,
    );
    expect(
      'explain shows the deciding rule and the missing signature',
      explain.code === 1 && /DENY acme-utils@99\.0\.0/.test(explain.output),
      explain.output,
    );
    const blocked = await project.yarn(['install']);
    expect('installing that lockfile is refused too', blocked.code === 1, blocked.output);
    say('the pull request is rejected; back to the reviewed lockfile and manifest');
    project.write('yarn.lock', goodLock);
    project.write('package.json', goodManifest);

    section('7. The attacker tries again, signed with their own valid Sigstore identity');
    await publishSigned(
      publicRegistry,
      await build({ name: 'acme-utils', version: '99.0.1', files: { 'payload.js': 'steal()' } }),
      ATTACKER,
    );
    const up2 = await project.yarn(['up', 'acme-utils']);
    showYarn('yarn up acme-utils', up2);
    expect(
      'blocked again: the signature verifies, but the signer is not Acme',
      up2.code === 1 && /signer-mismatch/.test(up2.output) && /mallory@evil\.example/.test(up2.output),
      up2.output,
    );

    section('8. What the attacker got');
    expect(
      "the attacker's postinstall never ran (99.0.0 and 99.0.1)",
      !ran('acme-utils', '99.0.0') && !ran('acme-utils', '99.0.1'),
    );
    expect(
      'yarn.lock and package.json are as they were',
      project.read('yarn.lock') === goodLock && project.read('package.json') === goodManifest,
    );
    const final = await project.yarn(['install']);
    expect(
      'the project still installs, from the evidence recorded in .tollgate.evidence.json',
      final.code === 0,
      final.output,
    );

    section('9. Install scripts run when approved by who signs them, not by name');
    const approvals = (parse(project.read('.tollgate.yml')).scripts?.allow ?? []) as Record<string, any>[];
    const approvalOf = (name: string) => approvals.find((a) => a.package === name);
    expect(
      "review: init approved today's install scripts: is-even for its CI identity, left-pad (unsigned) for its exact tarball",
      (approvalOf('is-even')?.signers?.[0]?.repository ?? '').endsWith('even-maintainers/is-even') &&
        /^sha512-/.test(approvalOf('left-pad')?.integrity ?? ''),
      project.read('.tollgate.yml'),
    );
    await publishSigned(publicRegistry, await build({ name: 'is-even', version: '1.0.1' }), {
      ...IS_EVEN_CI,
      ref: 'refs/tags/v1.0.1',
    } as TestIdentity);
    const nextRelease = await project.yarn(['up', 'is-even@1.0.1']);
    showYarn('yarn up is-even@1.0.1', nextRelease);
    expect(
      'is-even@1.0.1 from the same CI identity runs its postinstall with no new approval',
      nextRelease.code === 0 && ran('is-even', '1.0.1'),
      nextRelease.output,
    );
    await publicRegistry.publish(await build({ name: 'left-pad', version: '1.3.1' }));
    say('published left-pad@1.3.1 to public, unsigned (same name, new bytes)');
    const unsignedRelease = await project.yarn(['up', 'left-pad@1.3.1']);
    showYarn('yarn up left-pad@1.3.1', unsignedRelease);
    expect(
      'left-pad@1.3.1 is installed, but its postinstall is withheld: the approval was for the 1.3.0 tarball',
      unsignedRelease.code === 1 &&
        !ran('left-pad', '1.3.1') &&
        /YN9109: .*left-pad@1\.3\.1 .*its postinstall did not run: scripts\.allow\[\d+\] approves only the tarball/.test(
          unsignedRelease.output,
        ),
      unsignedRelease.output,
    );
  } finally {
    section('Teardown');
    await scope.close();
    say('tollgate-server and both registries stopped');
  }

  const failed = steps.filter((s) => !s.ok);
  section('Summary');
  say(
    `${steps.length - failed.length} of ${steps.length} expectations met in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  for (const s of failed) say(red(`✘ ${s.name}`));
  process.exitCode = failed.length === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(red(`demo failed: ${err instanceof Error ? err.message : String(err)}`));
  process.exitCode = 1;
});
