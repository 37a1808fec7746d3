import { parse } from 'yaml';

export interface LockfileEntry {
  /** the descriptors the entry answers, as the lockfile writes them */
  descriptors: string;
  /** the locator, e.g. `express@npm:5.1.0` or a `patch:` / `workspace:` reference */
  resolution: string;
  name: string;
  /** what follows the name in the resolution */
  reference: string;
  checksum?: string;
}

/** The entries of a Yarn 4 lockfile (Yarn writes it as YAML), without `__metadata`. */
export function lockfileEntries(text: string): LockfileEntry[] {
  const document = (parse(text) ?? {}) as Record<string, { resolution?: string; checksum?: string }>;
  const entries: LockfileEntry[] = [];
  for (const [descriptors, entry] of Object.entries(document)) {
    if (descriptors === '__metadata' || typeof entry?.resolution !== 'string') continue;
    const at = entry.resolution.indexOf('@', 1);
    entries.push({
      descriptors,
      resolution: entry.resolution,
      name: entry.resolution.slice(0, at),
      reference: entry.resolution.slice(at + 1),
      ...(entry.checksum ? { checksum: entry.checksum } : {}),
    });
  }
  return entries;
}

/** name@version of every entry Yarn resolved from the npm registry. */
export function npmPackages(entries: readonly LockfileEntry[]): { name: string; version: string }[] {
  return entries
    .filter((entry) => /^npm:[^@]+$/.test(entry.reference))
    .map((entry) => ({ name: entry.name, version: entry.reference.slice('npm:'.length) }));
}

/**
 * Packages installed under another name (npm aliases: `"string-width-cjs": "npm:string-width@^4"`),
 * as the resolved name@version with the names they are installed as.
 */
export function aliasedPackages(
  entries: readonly LockfileEntry[],
): { name: string; version: string; aliases: string[] }[] {
  const out: { name: string; version: string; aliases: string[] }[] = [];
  for (const entry of entries) {
    if (!/^npm:[^@]+$/.test(entry.reference)) continue;
    const aliases = entry.descriptors
      .split(', ')
      .map((descriptor) => descriptor.slice(0, descriptor.indexOf('@', 1)))
      .filter((name) => name !== entry.name);
    if (aliases.length > 0) {
      out.push({
        name: entry.name,
        version: entry.reference.slice('npm:'.length),
        aliases: [...new Set(aliases)],
      });
    }
  }
  return out;
}

/** Entries Tollgate audits: all but the project's own workspaces. */
export function auditedEntries(entries: readonly LockfileEntry[]): LockfileEntry[] {
  return entries.filter((entry) => !entry.reference.startsWith('workspace:'));
}

/** The registry path of a packument, encoded as Yarn asks for it (`/@scope%2fname`). */
export function packumentPath(name: string): string {
  if (!name.startsWith('@')) return `/${name}`;
  const [scope, pkg] = name.slice(1).split('/');
  return `/@${scope}%2f${pkg}`;
}
