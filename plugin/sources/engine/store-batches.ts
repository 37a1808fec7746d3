// A configured attestation store asked for every package of an install at once, before the checks
// need the answers: tollgate-server answers many versions per request (POST /-/tollgate/v1/attestations),
// where asking one request per package was, with the registry's documents, most of the HTTP work of a
// CI checkout. A store that does not answer the batch (another implementation: 404), an answer that
// leaves a version out or does not read, and any failure leave those versions to be asked one by one,
// exactly as before: a batch can only save requests, never decide anything.
import { type AttestationsResponse, fetchAttestationsBatch, type Network, probeStore } from './fetching';

/** versions per request: small enough that the first answers arrive while later ones are served */
export const STORE_BATCH_SIZE = 128;

export interface PackageVersion {
  name: string;
  version: string;
}

const spec = ({ name, version }: PackageVersion) => `${name}@${version}`;

export class StoreBatches {
  /** store → spec → the batch's answer for it (null: ask it on its own) */
  private readonly answers = new Map<string, Map<string, Promise<AttestationsResponse | null>>>();

  constructor(private readonly net: Network) {}

  /** Starts asking each store for all `packages`, `STORE_BATCH_SIZE` at a time, after its probe. */
  start(stores: readonly string[], packages: readonly PackageVersion[]): void {
    for (const store of stores) {
      let byStore = this.answers.get(store);
      if (!byStore) {
        byStore = new Map();
        this.answers.set(store, byStore);
      }
      const wanted = [...new Set(packages.map(spec))].filter((s) => !byStore!.has(s));
      const ready = probeStore(store, this.net).catch(() => {});
      let supported: Promise<boolean> = ready.then(() => true);
      for (let i = 0; i < wanted.length; i += STORE_BATCH_SIZE) {
        const chunk = wanted.slice(i, i + STORE_BATCH_SIZE);
        // one at a time per store: the first answer says whether the store has the endpoint at all
        const answer = supported.then((ok) => (ok ? this.ask(store, chunk) : null));
        supported = answer.then((a) => a !== null);
        for (const s of chunk) {
          byStore.set(
            s,
            answer.then((a) => a?.get(s) ?? null),
          );
        }
      }
    }
  }

  /** The batch's answer for one version, or null where it has to be asked on its own. */
  answer(store: string, pkg: PackageVersion): Promise<AttestationsResponse | null> {
    return this.answers.get(store)?.get(spec(pkg)) ?? Promise.resolve(null);
  }

  private async ask(store: string, specs: string[]): Promise<Map<string, AttestationsResponse> | null> {
    let body: unknown;
    try {
      body = await fetchAttestationsBatch(store, specs, this.net);
    } catch {
      return null;
    }
    const packages = (body as { packages?: unknown })?.packages;
    if (typeof packages !== 'object' || packages === null || Array.isArray(packages)) return null;
    const answers = new Map<string, AttestationsResponse>();
    for (const s of specs) {
      if (!Object.hasOwn(packages, s)) continue;
      const list = (packages as Record<string, { attestations?: unknown }>)[s]?.attestations;
      if (Array.isArray(list)) answers.set(s, { attestations: list as AttestationsResponse['attestations'] });
    }
    return answers;
  }
}

/** Asks the configured stores for `packages` in batches, on the network's batches (made on first use). */
export function askStoresInBatches(
  net: Network,
  stores: readonly string[],
  packages: readonly PackageVersion[],
): void {
  if (stores.length === 0 || packages.length === 0) return;
  net.storeBatches ??= new StoreBatches(net);
  net.storeBatches.start(stores, packages);
}
