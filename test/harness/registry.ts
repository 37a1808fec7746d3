import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuiltPackage } from './packages';
import { repoRoot, tempDir } from './paths';
import { startAnnouncing, stopChild } from './process';
import type { Scope } from './scope';

export interface Registry {
  /** label used in test output, e.g. "private" or "public" */
  label: string;
  /** base URL with a trailing slash, as npm clients write registry URLs */
  url: string;
  storageDir: string;
  /** a bearer token of a user allowed to publish */
  token: string;
  publish(pkg: BuiltPackage, options?: { distTag?: string }): Promise<void>;
  /** Fetches the packument exactly as a client sees it. */
  packument(name: string): Promise<Record<string, any>>;
  /**
   * Swaps the stored tarball of an already-published version for other bytes, leaving the packument
   * (and its dist.integrity) as it was: what an attacker with write access to the storage does.
   */
  replaceTarball(name: string, version: string, tarball: Buffer): void;
  stop(): Promise<void>;
}

const publisher = { name: 'publisher', password: 'publisher-password' };

/** Starts a real Verdaccio on 127.0.0.1 with isolated storage, offline unless told to proxy another local registry. */
export async function startRegistry(
  scope: Scope,
  label: string,
  options: {
    /** proxy every name this registry does not hold itself to another registry (as company proxies do) */
    uplink?: string;
  } = {},
): Promise<Registry> {
  const dir = tempDir(`verdaccio-${label}`);
  const storageDir = join(dir, 'storage');
  mkdirSync(storageDir, { recursive: true });
  const configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    [
      `storage: ${JSON.stringify(storageDir)}`,
      `plugins: ${JSON.stringify(join(dir, 'plugins'))}`,
      'web:',
      '  enable: false',
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
      '    max_users: 100',
      ...(options.uplink
        ? [
            'uplinks:',
            '  upstream:',
            `    url: ${JSON.stringify(options.uplink)}`,
            '    cache: false',
            '    maxage: 0s',
          ]
        : ['uplinks: {}']),
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    unpublish: $authenticated',
      ...(options.uplink ? ['    proxy: upstream'] : []),
      'max_body_size: 200mb',
      'log: { type: stdout, format: json, level: error }',
      '',
    ].join('\n'),
  );
  const started = await startAnnouncing<{ port: number }>(
    process.execPath,
    [join(repoRoot, 'test/harness/verdaccio-main.cjs'), configPath],
    { cwd: dir, name: `verdaccio (${label})` },
  );
  const { child } = started;
  const port = started.ready.port;
  scope.defer(() => stopChild(child));
  const url = `http://127.0.0.1:${port}/`;

  const userRes = await fetch(`${url}-/user/org.couchdb.user:${publisher.name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: publisher.name, password: publisher.password }),
  });
  if (!userRes.ok)
    throw new Error(`verdaccio (${label}): creating the publisher failed: ${await userRes.text()}`);
  const { token } = (await userRes.json()) as { token: string };

  const registry: Registry = {
    label,
    url,
    storageDir,
    token,
    async publish(pkg, options) {
      const tarballName = `${pkg.name.split('/').pop()}-${pkg.version}.tgz`;
      const body = {
        _id: pkg.name,
        name: pkg.name,
        'dist-tags': { [options?.distTag ?? 'latest']: pkg.version },
        versions: {
          [pkg.version]: {
            ...pkg.manifest,
            _id: `${pkg.name}@${pkg.version}`,
            dist: {
              integrity: pkg.integrity,
              shasum: pkg.shasum,
              tarball: `${url}${pkg.name}/-/${tarballName}`,
            },
          },
        },
        _attachments: {
          [tarballName]: {
            content_type: 'application/octet-stream',
            data: pkg.tarball.toString('base64'),
            length: pkg.tarball.length,
          },
        },
      };
      const res = await fetch(`${url}${encodeName(pkg.name)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      if (!res.ok) {
        throw new Error(
          `verdaccio (${label}): publishing ${pkg.name}@${pkg.version} failed: ${await res.text()}`,
        );
      }
    },
    async packument(name) {
      const res = await fetch(`${url}${encodeName(name)}`, { headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`verdaccio (${label}): no packument for ${name}: ${res.status}`);
      return (await res.json()) as Record<string, any>;
    },
    replaceTarball(name, version, tarball) {
      const path = join(storageDir, name, `${name.split('/').pop()}-${version}.tgz`);
      if (!existsSync(path)) throw new Error(`verdaccio (${label}): no stored tarball at ${path}`);
      writeFileSync(path, tarball);
    },
    stop: () => stopChild(child),
  };
  return registry;
}

function encodeName(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}
