// The exact tarball of an already-published version, fetched with pacote (npm's fetcher) from the
// registry the project resolves that name from, so signing after the fact works for private registries.
import { readTarballManifest } from '../../../policy/evidence';
import { describeCause, SigningError } from './errors';
import { integrityOf } from './sign-package';

export interface RegistryAccess {
  /** registry URL (no trailing slash needed) */
  registry: string;
  /** bearer token for reading, when the registry needs one */
  authToken: string | null;
}

export interface PackageTarball {
  name: string;
  version: string;
  tarball: Buffer;
  /** where the bytes came from: a file path or the tarball URL */
  origin: string;
  /** the registry the package belongs to (named by publish attestations) */
  registry: string;
}

function nerfDart(registry: string): string {
  const url = new URL(registry.endsWith('/') ? registry : `${registry}/`);
  return `//${url.host}${url.pathname}`;
}

export async function fetchPublishedTarball(
  spec: string,
  accessFor: (scope: string | null) => RegistryAccess,
  cacheDir: string,
): Promise<PackageTarball> {
  const { default: npa } = await import('npm-package-arg');
  let parsed: ReturnType<typeof npa>;
  try {
    parsed = npa(spec);
  } catch (err) {
    throw new SigningError(
      'USAGE',
      `"${spec}" is neither a tarball path nor a package spec: ${describeCause(err)}`,
    );
  }
  if (!parsed.registry || !parsed.name) {
    throw new SigningError(
      'USAGE',
      `"${spec}" is a ${parsed.type} spec: give a path to a .tgz file or a registry spec such as name@1.2.3`,
    );
  }
  const scope = parsed.scope ? parsed.scope.replace(/^@/, '') : null;
  const access = accessFor(scope);
  const options: Record<string, unknown> = {
    registry: access.registry,
    cache: cacheDir,
    fullMetadata: true,
    preferOnline: true,
  };
  if (parsed.scope) options[`${parsed.scope}:registry`] = access.registry;
  if (access.authToken) options[`${nerfDart(access.registry)}:_authToken`] = access.authToken;

  const pacote = await import('pacote');
  let tarball: Buffer;
  let manifest: Awaited<ReturnType<typeof pacote.manifest>>;
  try {
    manifest = await pacote.manifest(spec, options);
    const exact = `${manifest.name}@${manifest.version}`;
    tarball = await pacote.tarball(exact, { ...options, integrity: manifest._integrity });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why =
      code === 'E404'
        ? `${access.registry} does not know ${parsed.name}`
        : code === 'ETARGET'
          ? `${access.registry} has no version of ${parsed.name} matching "${parsed.rawSpec}"`
          : code === 'EINTEGRITY'
            ? `the tarball from ${access.registry} does not match its dist.integrity`
            : `${access.registry}: ${describeCause(err)}`;
    throw new SigningError('PACKAGE_UNAVAILABLE', `could not fetch ${spec}: ${why}`, err);
  }
  if (manifest._integrity && manifest._integrity !== integrityOf(tarball)) {
    throw new SigningError(
      'PACKAGE_UNAVAILABLE',
      `the tarball of ${manifest.name}@${manifest.version} does not match the registry's dist.integrity`,
    );
  }
  await assertTarballNames(tarball, manifest.name, manifest.version, manifest._resolved ?? spec);
  return {
    name: manifest.name,
    version: manifest.version,
    tarball,
    origin: manifest._resolved ?? spec,
    registry: access.registry,
  };
}

/** Reads name and version from the tarball's own package.json (what installs actually see). */
export async function tarballIdentity(
  tarball: Buffer,
  origin: string,
): Promise<{ name: string; version: string }> {
  let manifest: { name: unknown; version: unknown };
  try {
    manifest = await readTarballManifest(tarball);
  } catch (err) {
    throw new SigningError(
      'TARBALL_UNREADABLE',
      `${origin} is not an npm package tarball: ${describeCause(err)}`,
      err,
    );
  }
  if (typeof manifest.name !== 'string' || typeof manifest.version !== 'string') {
    throw new SigningError(
      'TARBALL_UNREADABLE',
      `${origin}: package.json has no string "name" and "version"`,
    );
  }
  return { name: manifest.name, version: manifest.version };
}

// The registry's metadata and the tarball's own package.json must name the same package, or the
// attestation would vouch for a name the installed code does not carry.
async function assertTarballNames(tarball: Buffer, name: string, version: string, origin: string) {
  const own = await tarballIdentity(tarball, origin);
  if (own.name !== name || own.version !== version) {
    throw new SigningError(
      'PACKAGE_UNAVAILABLE',
      `${origin}: the registry calls it ${name}@${version} but its package.json says ${own.name}@${own.version}; refusing to sign`,
    );
  }
}
