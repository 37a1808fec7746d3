// npm registry signatures (dist.signatures): ECDSA P-256 / SHA-256 over "<name>@<version>:<integrity>"
// by a registry key of usage npm:signatures. A key is usable only within its validity: the caller says
// at which instant (the version's publish time, or now), since verification reads no clock.
import { verify } from 'node:crypto';
import { EvidenceError } from '../error';
import { isKeyValidAt, type NpmRegistryKey } from '../trust/npm-keys';
import type { RegistrySignatureResult } from '../types';

export interface RegistrySignature {
  keyid: string;
  sig: string;
}

export interface RegistrySignatureOutcome {
  result: RegistrySignatureResult;
  error?: EvidenceError;
}

export function registrySignedMessage(name: string, version: string, integrity: string): string {
  return `${name}@${version}:${integrity}`;
}

export function verifyRegistrySignature(
  signature: RegistrySignature,
  pkg: { name: string; version: string; integrity: string },
  keys: NpmRegistryKey[],
  at: Date | undefined,
): RegistrySignatureOutcome {
  const fail = (error: EvidenceError) => ({
    result: { keyId: String(signature.keyid), verified: false },
    error,
  });
  const candidates = keys.filter((k) => k.usage === 'npm:signatures' && k.keyId === signature.keyid);
  if (candidates.length === 0) {
    return fail(
      new EvidenceError('REGISTRY_KEY_UNKNOWN', `no trusted npm registry key has keyid "${signature.keyid}"`),
    );
  }
  const message = Buffer.from(registrySignedMessage(pkg.name, pkg.version, pkg.integrity), 'utf8');
  const sig = Buffer.from(String(signature.sig), 'base64');
  const verifying = candidates.filter((k) => {
    try {
      return verify('sha256', message, k.publicKey, sig);
    } catch {
      return false;
    }
  });
  if (verifying.length === 0) {
    return fail(
      new EvidenceError(
        'REGISTRY_SIGNATURE_INVALID',
        `registry signature by ${signature.keyid} does not verify over "${pkg.name}@${pkg.version}:<integrity>"`,
      ),
    );
  }
  const bounded = verifying.some((k) => k.validFrom || k.validUntil);
  if (bounded && !at) {
    return fail(
      new EvidenceError(
        'REGISTRY_KEY_EXPIRED',
        `key ${signature.keyid} has a validity period but no time was given to check it`,
      ),
    );
  }
  if (at && !verifying.some((k) => isKeyValidAt(k, at))) {
    const k = verifying[0]!;
    return fail(
      new EvidenceError(
        'REGISTRY_KEY_EXPIRED',
        `key ${signature.keyid} is valid ${k.validFrom?.toISOString() ?? '-∞'} to ${k.validUntil?.toISOString() ?? '∞'}, not at ${at.toISOString()}`,
      ),
    );
  }
  return { result: { keyId: signature.keyid, verified: true } };
}
