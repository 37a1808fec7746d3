import { type Locator, type Package, structUtils } from '@yarnpkg/core';

export type SourceKind = 'npm' | 'git' | 'http' | 'file' | 'link' | 'patch' | 'portal' | 'workspace' | 'exec';

export interface ClassifiedLocator {
  locator: Locator;
  kind: SourceKind;
  /** full package name, with scope */
  name: string;
  version: string | null;
  /** for npm packages: a tarball URL the lockfile pins instead of the conventional one */
  archiveUrl: string | null;
  /** for patch: the locator of the package being patched */
  base: ClassifiedLocator | null;
}

/** Decides which kind of source a resolved locator comes from, by the protocol Yarn recorded for it. */
export function classifyLocator(locator: Locator, version: string | null = null): ClassifiedLocator {
  const name = structUtils.stringifyIdent(locator);
  const reference = locator.reference;
  const base = { locator, name, version, archiveUrl: null, base: null };
  if (reference.startsWith('npm:')) {
    // `npm:<version>`, or `npm:<version>::__archiveUrl=<url-encoded URL>` for registries whose tarballs
    // are not at the conventional path (GitHub Packages, Artifactory): the URL Yarn actually fetches.
    const range = structUtils.tryParseRange(reference);
    const archiveUrl = range?.params?.__archiveUrl;
    return {
      ...base,
      kind: 'npm',
      version: range?.selector ?? reference.slice('npm:'.length),
      archiveUrl: typeof archiveUrl === 'string' ? archiveUrl : null,
    };
  }
  if (reference.startsWith('patch:')) {
    return { ...base, kind: 'patch', base: classifyLocator(patchSource(locator), version) };
  }
  if (reference.startsWith('workspace:')) return { ...base, kind: 'workspace' };
  if (reference.startsWith('file:')) return { ...base, kind: 'file' };
  if (reference.startsWith('link:')) return { ...base, kind: 'link' };
  if (reference.startsWith('portal:')) return { ...base, kind: 'portal' };
  if (reference.startsWith('exec:')) return { ...base, kind: 'exec' };
  if (/^(git(\+[a-z]+)?:|github:|gitlab:|bitbucket:)/.test(reference) || /#commit=/.test(reference)) {
    return { ...base, kind: 'git' };
  }
  if (/^https?:/.test(reference)) {
    return { ...base, kind: /\.git(#|$)/.test(reference) ? 'git' : 'http' };
  }
  // Unknown protocols are judged as the least trusted source rather than skipped.
  return { ...base, kind: 'exec' };
}

/** `name@patch:name@npm%3A1.0.0#./patch::version=...` -> `name@npm:1.0.0` */
function patchSource(locator: Locator): Locator {
  const body = locator.reference.slice('patch:'.length);
  const hash = body.indexOf('#');
  const source = decodeURIComponent(hash === -1 ? body : body.slice(0, hash));
  return structUtils.parseLocator(source, true);
}

/** Packages that are installed: virtual instances are checked through the package they instantiate. */
export function packagesToCheck(packages: Iterable<Package>): Package[] {
  return [...packages].filter((pkg) => !structUtils.isVirtualLocator(pkg));
}
