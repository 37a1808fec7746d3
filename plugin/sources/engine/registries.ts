import type { Configuration, Ident } from '@yarnpkg/core';
import { npmConfigUtils } from '@yarnpkg/plugin-npm';

/** The registry Yarn fetches an ident from, as the project is configured (npmScopes, npmRegistryServer). */
export function registryFor(ident: Ident, configuration: Configuration): string {
  return npmConfigUtils.getScopeRegistry(ident.scope, { configuration });
}

/** Where each scope resolves from ("" = the default registry). */
export function registryMap(configuration: Configuration): Record<string, string> {
  const map: Record<string, string> = { '': npmConfigUtils.getDefaultRegistry({ configuration }) };
  for (const scope of configuration.get('npmScopes').keys()) {
    map[scope] = npmConfigUtils.getScopeRegistry(scope, { configuration });
  }
  return map;
}

/** Every registry this project is configured to talk to. */
export function configuredRegistries(configuration: Configuration): string[] {
  return [...new Set(Object.values(registryMap(configuration)))];
}

export interface RegistryRequest {
  registry: string;
  name: string;
  /** set for tarball requests */
  version: string | null;
  kind: 'packument' | 'tarball';
}

/**
 * Recognises packument and tarball requests to a configured registry from their URL:
 * `/<name>`, `/@scope%2fname`, `/<name>/-/<base>-<version>.tgz` (the scope separator either encoded or not).
 */
export function parseRegistryRequest(target: string, registries: readonly string[]): RegistryRequest | null {
  const registry = registries
    .filter((r) => target === r || target.startsWith(`${r}/`))
    .sort((a, b) => b.length - a.length)[0];
  if (!registry) return null;
  const path = target.slice(registry.length).split('?')[0]!.replace(/^\/+/, '');
  if (path.startsWith('-/')) return null;
  const decoded = path.replace(/%2f/gi, '/').replace(/%40/gi, '@');
  const match = /^((?:@[^/]+\/)?[^/@][^/]*)(?:\/-\/(.+)\.tgz)?\/?$/.exec(decoded);
  if (!match) return null;
  const name = decodeURIComponent(match[1]!);
  const file = match[2];
  if (file === undefined) return { registry, name, version: null, kind: 'packument' };
  const baseName = name.split('/').pop()!;
  if (!file.startsWith(`${baseName}-`)) return null;
  return { registry, name, version: file.slice(baseName.length + 1), kind: 'tarball' };
}
