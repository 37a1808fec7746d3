// Reads a trusted_root.json (application/vnd.dev.sigstore.trustedroot+json) and enforces what
// sigstore-js tolerates but a verifier must not: a transparency log key with no validFor.start would
// be trusted "since the beginning of time", so entries the log key could not have signed would pass.
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { TrustConfigError } from '../error';

interface RawTlog {
  baseUrl?: unknown;
  publicKey?: { rawBytes?: unknown; validFor?: { start?: unknown } };
}

export function parseTrustedRoot(json: string | object, rootName: string): TrustedRoot {
  let raw: unknown;
  try {
    raw = typeof json === 'string' ? JSON.parse(json) : json;
  } catch (err) {
    throw new TrustConfigError('TRUST_ROOT_INVALID', `trust root "${rootName}": not valid JSON`, err);
  }
  if (!raw || typeof raw !== 'object') {
    throw new TrustConfigError('TRUST_ROOT_INVALID', `trust root "${rootName}": expected a JSON object`);
  }
  const tlogs = (raw as { tlogs?: unknown }).tlogs;
  if (!Array.isArray(tlogs) || tlogs.length === 0) {
    throw new TrustConfigError(
      'TRUST_ROOT_INVALID',
      `trust root "${rootName}": "tlogs" must list at least one transparency log`,
    );
  }
  (tlogs as RawTlog[]).forEach((tlog, i) => {
    const label = `trust root "${rootName}" tlogs[${i}] (${String(tlog?.baseUrl ?? 'no baseUrl')})`;
    if (typeof tlog?.publicKey?.rawBytes !== 'string') {
      throw new TrustConfigError('TRUST_ROOT_INVALID', `${label}: publicKey.rawBytes is missing`);
    }
    if (typeof tlog.publicKey.validFor?.start !== 'string') {
      throw new TrustConfigError(
        'TRUST_ROOT_INVALID',
        `${label}: publicKey.validFor.start is missing; a log key must say since when it is trusted`,
      );
    }
  });
  try {
    return TrustedRoot.fromJSON(raw);
  } catch (err) {
    throw new TrustConfigError(
      'TRUST_ROOT_INVALID',
      `trust root "${rootName}": not a trusted root: ${err instanceof Error ? err.message : String(err)}`,
      err,
    );
  }
}
