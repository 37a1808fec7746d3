// The SPKI DER of a trusted public key, exported once per KeyObject. Key-signed bundles (npm's publish
// attestations) are checked against the key that verified them, which is always one of the context's
// own KeyObjects; exporting it again for every bundle showed as 3% of a verification profile. A
// KeyObject cannot change, so its export is a pure function of the object.
import type { KeyObject } from 'node:crypto';

export class SpkiCache {
  private readonly spki = new WeakMap<KeyObject, Buffer>();

  of(key: KeyObject): Buffer {
    let der = this.spki.get(key);
    if (!der) {
      der = key.export({ format: 'der', type: 'spki' });
      this.spki.set(key, der);
    }
    return der;
  }
}
