// npm registry keys: the ones embedded in @sigstore/tuf plus any the caller adds (e.g. a private
// registry's). Keys are parsed once into KeyObjects. Two documents are accepted:
// - the TUF target `{keys:[{keyId, keyUsage, publicKey:{rawBytes, keyDetails, validFor:{start,end}}}]}`
// - the registry keys endpoint `{keys:[{keyid, keytype, scheme, key, expires}]}` (valid for both usages).
import { createPublicKey, type KeyObject } from 'node:crypto';
import { TrustConfigError } from '../error';

export type NpmKeyUsage = 'npm:signatures' | 'npm:attestations';

export interface NpmRegistryKey {
  keyId: string;
  usage: NpmKeyUsage;
  publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo, for comparing with keys named in log entries. */
  spki: Buffer;
  validFrom?: Date;
  /** The key must not be used for anything signed after this instant. */
  validUntil?: Date;
}

interface TufKeyEntry {
  keyId?: unknown;
  keyUsage?: unknown;
  publicKey?: { rawBytes?: unknown; validFor?: { start?: unknown; end?: unknown } };
}
interface RegistryKeyEntry {
  keyid?: unknown;
  keytype?: unknown;
  key?: unknown;
  expires?: unknown;
}

const USAGES: readonly NpmKeyUsage[] = ['npm:signatures', 'npm:attestations'];

function parseDate(value: unknown, where: string): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new TrustConfigError('TRUST_KEY_INVALID', `${where}: not a date: ${JSON.stringify(value)}`);
  }
  return date;
}

function parseSpki(b64: unknown, where: string): { publicKey: KeyObject; spki: Buffer } {
  if (typeof b64 !== 'string' || b64.length === 0) {
    throw new TrustConfigError('TRUST_KEY_INVALID', `${where}: the public key must be base64 DER (SPKI)`);
  }
  const spki = Buffer.from(b64, 'base64');
  try {
    return { publicKey: createPublicKey({ key: spki, format: 'der', type: 'spki' }), spki };
  } catch (err) {
    throw new TrustConfigError('TRUST_KEY_INVALID', `${where}: not a DER SubjectPublicKeyInfo`, err);
  }
}

/** Parses an npm keys document (either format, as JSON text or a parsed object). */
export function parseNpmRegistryKeys(document: string | object, origin: string): NpmRegistryKey[] {
  let parsed: unknown;
  try {
    parsed = typeof document === 'string' ? JSON.parse(document) : document;
  } catch (err) {
    throw new TrustConfigError('TRUST_KEY_INVALID', `${origin}: npm keys are not valid JSON`, err);
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) {
    throw new TrustConfigError('TRUST_KEY_INVALID', `${origin}: expected {"keys": [...]}`);
  }
  const out: NpmRegistryKey[] = [];
  keys.forEach((entry: TufKeyEntry & RegistryKeyEntry, i) => {
    const where = `${origin} keys[${i}]`;
    if (typeof entry.keyId === 'string') {
      if (!USAGES.includes(entry.keyUsage as NpmKeyUsage)) {
        throw new TrustConfigError(
          'TRUST_KEY_INVALID',
          `${where}: keyUsage must be one of ${USAGES.join(', ')}`,
        );
      }
      out.push({
        keyId: entry.keyId,
        usage: entry.keyUsage as NpmKeyUsage,
        ...parseSpki(entry.publicKey?.rawBytes, where),
        validFrom: parseDate(entry.publicKey?.validFor?.start, `${where}.publicKey.validFor.start`),
        validUntil: parseDate(entry.publicKey?.validFor?.end, `${where}.publicKey.validFor.end`),
      });
    } else if (typeof entry.keyid === 'string') {
      const material = parseSpki(entry.key, where);
      const validUntil = parseDate(entry.expires, `${where}.expires`);
      for (const usage of USAGES) out.push({ keyId: entry.keyid, usage, ...material, validUntil });
    } else {
      throw new TrustConfigError('TRUST_KEY_INVALID', `${where}: has neither "keyId" nor "keyid"`);
    }
  });
  return out;
}

export function isKeyValidAt(key: NpmRegistryKey, at: Date): boolean {
  if (key.validFrom && at < key.validFrom) return false;
  if (key.validUntil && at > key.validUntil) return false;
  return true;
}
