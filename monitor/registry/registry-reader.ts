// Reads what registries and attestation stores publish about a package: the full packument, the
// attestations of a version (the registry's dist.attestations.url and every configured store, in
// npm's attestations wire format) and tarballs. A 404 for attestations means none; anything else
// that fails is a SourceError, never "no evidence".
import { SourceError } from '../errors';
import { type HttpClient, HttpFailure, parseJsonResponse } from '../http/client';

// biome-ignore lint/suspicious/noExplicitAny: registry JSON documents, read field by field
export type Packument = Record<string, any>;

export interface FetchedBundle {
  /** the bundle JSON text, as the plugin hands bundles to the verifier */
  json: string;
  source: string;
}

export function encodePackageName(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

export function attestationStoreUrl(store: string, name: string, version: string): string {
  return `${store}/-/npm/v1/attestations/${encodePackageName(name)}@${encodeURIComponent(version)}`;
}

export class RegistryReader {
  constructor(private readonly http: HttpClient) {}

  async packument(registry: string, name: string): Promise<Packument> {
    const url = `${registry}${encodePackageName(name)}`;
    let doc: unknown;
    try {
      doc = await this.http.getJson(url);
    } catch (err) {
      if (err instanceof HttpFailure && err.status === 404) {
        // Not published (yet): nothing to watch for now.
        return { name, versions: {}, time: {} };
      }
      throw new SourceError(
        err instanceof HttpFailure && err.status !== undefined
          ? 'REGISTRY_RESPONSE_INVALID'
          : 'REGISTRY_UNREACHABLE',
        `the packument of ${name}: ${err instanceof HttpFailure ? `${err.url}: ${err.message}` : String(err)}`,
      );
    }
    if (typeof doc !== 'object' || doc === null || typeof (doc as Packument)['versions'] !== 'object') {
      throw new SourceError('REGISTRY_RESPONSE_INVALID', `${url} is not a packument`);
    }
    return doc as Packument;
  }

  async attestations(url: string): Promise<FetchedBundle[]> {
    let res: Awaited<ReturnType<HttpClient['request']>>;
    try {
      res = await this.http.request(url, { headers: { accept: 'application/json' } });
    } catch (err) {
      throw new SourceError('ATTESTATIONS_UNAVAILABLE', `${url}: ${(err as Error).message}`);
    }
    if (res.status === 404) return [];
    let doc: unknown;
    try {
      doc = parseJsonResponse(url, res);
    } catch (err) {
      throw new SourceError('ATTESTATIONS_UNAVAILABLE', `${url}: ${(err as Error).message}`);
    }
    const list = (doc as { attestations?: unknown })?.attestations;
    if (!Array.isArray(list))
      throw new SourceError('ATTESTATIONS_UNAVAILABLE', `${url}: the answer has no "attestations" list`);
    return list
      .filter((a) => typeof a === 'object' && a !== null && (a as { bundle?: unknown }).bundle)
      .map((a) => ({ json: JSON.stringify((a as { bundle: unknown }).bundle), source: url }));
  }

  async tarball(url: string): Promise<Buffer> {
    try {
      const res = await this.http.request(url, { timeoutMs: 120_000 });
      if (res.status !== 200) throw new HttpFailure(url, `HTTP ${res.status}`, res.status);
      return res.body;
    } catch (err) {
      throw new SourceError('TARBALL_UNAVAILABLE', `${url}: ${(err as Error).message}`);
    }
  }
}
