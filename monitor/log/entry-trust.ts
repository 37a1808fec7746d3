// Checks on a matched entry beyond its inclusion: that its certificate was issued by a CA of the
// trusted root (anyone can log a self-made certificate naming any email; only a CA-issued one means
// the identity was really used), and that its integrated time is the one the log signed (the SET).
// Only entries that match a watched identity get these checks: they cost a signature each.
import { verify } from 'node:crypto';
import { json, type X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import type { LogKey } from './checkpoint';
import type { LogEntry } from './entry';

export function issuedByTrustedCa(certificate: X509Certificate, material: TrustMaterial, at: Date): boolean {
  if (!certificate.validForDate(at)) return false;
  return material.certificateAuthorities.some((ca) => {
    if (at < ca.validFor.start || at > ca.validFor.end) return false;
    const issuer = ca.certChain[0];
    if (!issuer) return false;
    try {
      return certificate.verify(issuer);
    } catch {
      return false;
    }
  });
}

/** Verifies the signed entry timestamp with the key of the log that the checkpoints are signed by. */
export function verifySignedEntryTimestamp(entry: LogEntry, key: LogKey): boolean {
  if (!entry.signedEntryTimestamp || entry.logID !== key.logID.toString('hex')) return false;
  const payload = json.canonicalize({
    body: entry.body.toString('base64'),
    integratedTime: entry.integratedTime,
    logID: entry.logID,
    logIndex: entry.logIndex,
  });
  try {
    return verify(
      'sha256',
      Buffer.from(payload, 'utf8'),
      key.publicKey,
      Buffer.from(entry.signedEntryTimestamp, 'base64'),
    );
  } catch {
    return false;
  }
}
