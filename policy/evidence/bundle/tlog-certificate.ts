// The transparency log entry must name the same signer as the bundle. sigstore-js checks that the
// entry's signature and digest match the bundle's, but not whose certificate (or key) the log
// recorded; without this a bundle could pair its own certificate with a log entry made for another.

import type { KeyObject } from 'node:crypto';
import type { Bundle, TransparencyLogEntry } from '@sigstore/bundle';
import { pem } from '@sigstore/core';
import { EvidenceError } from '../error';
import type { SpkiCache } from '../trust/spki-cache';
import { bundleCertificates } from './parse';

type Verifier = { kind: 'certificate' | 'public-key'; der: Buffer };

function fromPemBase64(b64: unknown): Verifier | undefined {
  if (typeof b64 !== 'string') return undefined;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  const kind = text.includes('BEGIN CERTIFICATE')
    ? 'certificate'
    : text.includes('PUBLIC KEY')
      ? 'public-key'
      : undefined;
  return kind ? { kind, der: pem.toDER(text) } : undefined;
}

function fromRekorV2(verifier: unknown): Verifier | undefined {
  const v = verifier as { x509Certificate?: { rawBytes?: unknown }; publicKey?: { rawBytes?: unknown } };
  if (typeof v?.x509Certificate?.rawBytes === 'string') {
    return { kind: 'certificate', der: Buffer.from(v.x509Certificate.rawBytes, 'base64') };
  }
  if (typeof v?.publicKey?.rawBytes === 'string') {
    return { kind: 'public-key', der: Buffer.from(v.publicKey.rawBytes, 'base64') };
  }
  return undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: log entry bodies are untyped JSON, checked field by field
type Json = any;

function verifiersOf(kind: string, version: string, spec: Json): (Verifier | undefined)[] {
  if (kind === 'hashedrekord' && version === '0.0.1')
    return [fromPemBase64(spec?.signature?.publicKey?.content)];
  if (kind === 'hashedrekord' && version === '0.0.2')
    return [fromRekorV2(spec?.hashedRekordV002?.signature?.verifier)];
  if (kind === 'dsse' && version === '0.0.1')
    return (spec?.signatures ?? []).map((s: Json) => fromPemBase64(s?.verifier));
  if (kind === 'dsse' && version === '0.0.2')
    return (spec?.dsseV002?.signatures ?? []).map((s: Json) => fromRekorV2(s?.verifier));
  if (kind === 'intoto' && version === '0.0.2') {
    return (spec?.content?.envelope?.signatures ?? []).map((s: Json) => fromPemBase64(s?.publicKey));
  }
  if (kind === 'intoto' && version === '0.0.1') return [fromPemBase64(spec?.publicKey)];
  throw new EvidenceError(
    'BUNDLE_UNSUPPORTED',
    `transparency log entry kind ${kind} ${version} is not supported`,
  );
}

function recordedVerifiers(entry: TransparencyLogEntry): Verifier[] {
  const { kind, version } = entry.kindVersion;
  let body: { spec?: unknown };
  try {
    body = JSON.parse(entry.canonicalizedBody.toString('utf8'));
  } catch (err) {
    throw new EvidenceError('TLOG_INVALID', 'transparency log entry body is not JSON', err);
  }
  const found = verifiersOf(kind, version, body.spec);
  if (found.length === 0 || found.some((v) => v === undefined)) {
    throw new EvidenceError(
      'TLOG_BODY_CERTIFICATE_MISMATCH',
      `transparency log entry (${kind} ${version}) records no readable certificate or public key`,
    );
  }
  return found as Verifier[];
}

/**
 * Every tlog entry must record exactly the bundle's leaf certificate, or the key that verified it
 * (its SPKI exported here, or by `spki`, the context's cache of the same export).
 */
export function assertTlogNamesSigner(bundle: Bundle, signerKey: KeyObject, spki?: SpkiCache): void {
  const leaf = bundleCertificates(bundle)[0];
  const expected: Verifier = leaf
    ? { kind: 'certificate', der: leaf }
    : {
        kind: 'public-key',
        der: spki ? spki.of(signerKey) : signerKey.export({ format: 'der', type: 'spki' }),
      };
  for (const entry of bundle.verificationMaterial.tlogEntries) {
    for (const recorded of recordedVerifiers(entry)) {
      if (recorded.kind !== expected.kind || !recorded.der.equals(expected.der)) {
        throw new EvidenceError(
          'TLOG_BODY_CERTIFICATE_MISMATCH',
          `transparency log entry ${entry.logIndex} records a different ${recorded.kind} than the bundle's ${expected.kind}`,
        );
      }
    }
  }
}
