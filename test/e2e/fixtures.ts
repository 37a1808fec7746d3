import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type BuiltPackage, buildPackage, markerName, type PackageSpec } from '../harness/packages';
import { tempDir } from '../harness/paths';
import { type Registry, startRegistry } from '../harness/registry';
import type { Scope } from '../harness/scope';
import { type SigstoreServer, startSigstoreServer, type TestIdentity } from '../harness/sigstore';
import { createYarnProject, type YarnProject } from '../harness/yarn-project';

export const ACME_RELEASER: TestIdentity = { kind: 'email', email: 'release-bot@acme.example' };
export const OUTSIDER: TestIdentity = { kind: 'email', email: 'mallory@evil.example' };

/** A company world: tollgate-server, the company's private registry and a stand-in for the public one. */
export interface World {
  server: SigstoreServer;
  privateRegistry: Registry;
  publicRegistry: Registry;
  markers: string;
  /** builds a package whose postinstall writes a marker into `markers` */
  build(spec: Omit<PackageSpec, 'postinstallMarkerDir'>): Promise<BuiltPackage>;
  /** builds, signs with `identity` (attached to the store) and publishes to `registry` */
  publishSigned(
    registry: Registry,
    spec: Omit<PackageSpec, 'postinstallMarkerDir'>,
    identity: TestIdentity,
  ): Promise<BuiltPackage>;
  ran(name: string, version: string): boolean;
  anyScriptRan(): boolean;
}

export async function startWorld(scope: Scope): Promise<World> {
  const [server, privateRegistry, publicRegistry] = await Promise.all([
    startSigstoreServer(scope),
    startRegistry(scope, 'private'),
    startRegistry(scope, 'public'),
  ]);
  const markers = tempDir('markers');
  const build = (spec: Omit<PackageSpec, 'postinstallMarkerDir'>) =>
    buildPackage({ ...spec, postinstallMarkerDir: markers });
  return {
    server,
    privateRegistry,
    publicRegistry,
    markers,
    build,
    async publishSigned(registry, spec, identity) {
      const pkg = await build(spec);
      const bundle = await server.signPackage(pkg, identity, { registry: registry.url });
      await server.attach(pkg.name, pkg.version, bundle);
      await registry.publish(pkg);
      return pkg;
    },
    ran: (name, version) => existsSync(join(markers, markerName(name, version))),
    anyScriptRan: () => existsSync(markers) && readdirSync(markers).length > 0,
  };
}

/** The company policy: internal names only from the private registry, signed by an @acme.example identity. */
export function acmePolicy(
  world: World,
  overrides: { mode?: string; defaults?: Record<string, unknown> } = {},
) {
  return {
    version: 1,
    mode: overrides.mode ?? 'enforce',
    trustRoots: { local: { file: 'local-trusted-root.json' } },
    defaults: { require: 'none', trust: ['local'], ...overrides.defaults },
    rules: [
      {
        name: 'acme-internal',
        packages: ['@acme/*', 'acme-*'],
        registries: [world.privateRegistry.url],
        require: 'signature',
        trust: ['local'],
        signers: [{ issuer: world.server.issuer, subject: { glob: '*@acme.example' } }],
      },
    ],
    // The gate's tests judge packages, not builds: every package the gate allows runs its build (Yarn's
    // own behaviour), so a script marker means the gate let the package through. Script approvals
    // have their own suite (scripts.test.ts).
    scripts: { default: 'allow' } as Record<string, unknown>,
  };
}

export async function acmeProject(
  world: World,
  options: {
    dependencies: Record<string, string>;
    policy?: Record<string, unknown>;
    /** which registry serves the @acme scope (default: the private one) */
    acmeScopeRegistry?: Registry;
    defaultRegistry?: Registry;
    yarnrc?: Record<string, unknown>;
  },
): Promise<YarnProject> {
  return createYarnProject({
    registry: (options.defaultRegistry ?? world.publicRegistry).url,
    scopes: { acme: (options.acmeScopeRegistry ?? world.privateRegistry).url },
    dependencies: options.dependencies,
    withPlugin: true,
    yarnrc: {
      tollgatePolicyPath: '.tollgate.yml',
      tollgateAttestationStores: [world.server.url],
      ...options.yarnrc,
    },
    files: {
      '.tollgate.yml': stringify(options.policy ?? acmePolicy(world)),
      'local-trusted-root.json': world.server.trustedRootJson,
    },
  });
}
