import { type Project, structUtils } from '@yarnpkg/core';
import semver from 'semver';
import type { PackageCheck } from '../engine/check-package';

export interface PackageQuery {
  name: string;
  range: string | null;
}

/** `name`, `@scope/name`, `name@range`, `@scope/name@range`. Returns null when it names no package. */
export function parsePackageQuery(input: string): PackageQuery | null {
  const at = input.indexOf('@', input.startsWith('@') ? 1 : 0);
  const name = at === -1 ? input : input.slice(0, at);
  const range = at === -1 ? null : input.slice(at + 1);
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) return null;
  if (range !== null && range !== '' && !semver.validRange(range)) return null;
  return { name, range: range || null };
}

/** The lockfile's checks for the packages a query names. */
export function selectChecks(checks: PackageCheck[], query: PackageQuery): PackageCheck[] {
  return checks.filter((check) => {
    const judged = check.classified;
    if (judged.name !== query.name) return false;
    if (query.range === null) return true;
    const version = judged.version ?? judged.base?.version ?? null;
    return version !== null && semver.satisfies(version, query.range, { includePrerelease: true });
  });
}

export function lockfileNames(project: Project): string[] {
  return [
    ...new Set([...project.originalPackages.values()].map((p) => structUtils.stringifyIdent(p))),
  ].sort();
}
