import { sha512Integrity } from './tarball-binding';

export interface CapturedTarball {
  registry: string;
  name: string;
  version: string;
  integrity: string;
  bytes: Buffer;
}

/**
 * Tarballs Yarn downloaded in this process, exactly as it received them (seen through wrapNetworkRequest).
 * Keyed by package, not URL: plugin-npm retries scoped tarballs with another spelling of the same URL.
 */
export class TarballCaptures {
  private readonly byPackage = new Map<string, CapturedTarball>();

  record(registry: string, name: string, version: string, bytes: Buffer): void {
    this.byPackage.set(key(name, version), {
      registry,
      name,
      version,
      integrity: sha512Integrity(bytes),
      bytes,
    });
  }

  take(name: string, version: string): CapturedTarball | undefined {
    const k = key(name, version);
    const found = this.byPackage.get(k);
    this.byPackage.delete(k);
    return found;
  }
}

function key(name: string, version: string): string {
  return `${name}@${version}`;
}
