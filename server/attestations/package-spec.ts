// The `{name}@{version}` of the npm attestations API, and the purl a statement names it by.
import semver from 'semver';
import { badRequest } from '../errors';

export interface PackageVersion {
  name: string;
  version: string;
}

// Scopes and new names are lower case; unscoped names from before npm required it (JSONStream,
// Base64) stay valid and are installed today. The store keys versions by a hash, so names that differ
// only in case never share a folder on a case-insensitive file system.
const NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/[a-z0-9][a-z0-9._~-]*|[A-Za-z0-9][A-Za-z0-9._~-]*)$/;
const MAX_NAME = 214; // npm's limit
const MAX_VERSION = 256; // node-semver's limit

/** Parses the `{name}@{version}` path segment; scoped names arrive as `@scope%2fname` or `@scope/name`. */
export function parsePackageSpec(raw: string): PackageVersion {
  let spec: string;
  try {
    spec = decodeURIComponent(raw);
  } catch {
    throw badRequest(`"${raw.slice(0, 200)}" is not a valid URL-encoded package spec`);
  }
  const at = spec.lastIndexOf('@');
  if (at <= 0) throw badRequest(`"${spec.slice(0, 200)}" must be <name>@<version>`);
  const name = spec.slice(0, at);
  const version = spec.slice(at + 1);
  if (name.length > MAX_NAME || !NAME.test(name)) {
    throw badRequest(
      `"${name.slice(0, 200)}" is not a valid npm package name (lower case but for unscoped names from before npm required it, at most ${MAX_NAME} characters)`,
    );
  }
  if (version.length > MAX_VERSION || semver.valid(version) !== version) {
    throw badRequest(
      `"${version.slice(0, 200)}" is not a valid semver version (at most ${MAX_VERSION} characters)`,
    );
  }
  return { name, version };
}

/** The purl an npm provenance statement uses as subject name (`%40` for a scope's `@`). */
export function npmPurl({ name, version }: PackageVersion): string {
  return `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;
}
