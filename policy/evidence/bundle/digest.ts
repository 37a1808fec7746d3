import { sha256Hex } from '../encoding';

// One install names the same bundle text by its digest several times (the committed file's name, the
// verification cache's key, the parsed bundle's facts, the decision's kept evidence, the file it is
// stored in): each distinct text is hashed once per thread. The texts are held anyway while an install judges its packages.
const digestsByText = new Map<string, string>();
const DIGESTS_KEPT = 16_384;

/** sha256 hex of a bundle's JSON text (an object is serialized first). */
export function bundleDigestOf(json: string | object): string {
  if (typeof json !== 'string') return sha256Hex(JSON.stringify(json));
  let digest = digestsByText.get(json);
  if (digest === undefined) {
    if (digestsByText.size >= DIGESTS_KEPT) digestsByText.clear();
    digest = sha256Hex(json);
    digestsByText.set(json, digest);
  }
  return digest;
}
