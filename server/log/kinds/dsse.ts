// dsse 0.0.1: a DSSE envelope whose every signature must verify with one of the proposed
// verifiers. Rekor keeps only hashes of the envelope and payload plus the signatures; in-toto
// subject digests (and the packages their purls name) are indexed so attestations can be found
// by the artifact they describe.

import { createHash } from 'node:crypto';
import { dsse } from '@sigstore/core';
import { ServerError } from '../../errors';
import { EMBEDDED_JSON, parseBoundedJson } from '../../json';
import { statementPackageKeys } from '../index-keys';
import { type EntryVerifier, keyIndexKey, parseVerifier, verifyMessageSignature } from '../keys';
import type { SignatureVerifier } from '../verify-pool';
import { base64Field, type CanonicalEntry, canonicalBody, field, invalidEntry } from './shared';

const IN_TOTO = 'application/vnd.in-toto+json';
const MAX_SIGNATURES = 8;

function subjectDigests(payload: Buffer): string[] {
  const statement = parseBoundedJson(payload.toString('utf8'), EMBEDDED_JSON, 'the in-toto statement', () =>
    invalidEntry('the envelope payload is declared in-toto but is not JSON'),
  );
  const subjects = (statement as { subject?: unknown })?.subject;
  if (!Array.isArray(subjects)) return [];
  const keys: string[] = statementPackageKeys(subjects);
  for (const subject of subjects.slice(0, 1024)) {
    const digest = (subject as { digest?: unknown })?.digest;
    if (typeof digest !== 'object' || digest === null) continue;
    for (const [alg, value] of Object.entries(digest)) {
      if (typeof value === 'string' && /^[a-z0-9-]{1,32}$/.test(alg) && /^[0-9a-f]{1,256}$/i.test(value)) {
        keys.push(`${alg}:${value.toLowerCase()}`);
      }
    }
  }
  return keys;
}

export async function canonicalizeDsse(
  spec: unknown,
  signatureChecks: SignatureVerifier,
): Promise<CanonicalEntry> {
  const s = field(spec, 'spec');
  if (s['envelopeHash'] !== undefined || s['payloadHash'] !== undefined || s['signatures'] !== undefined) {
    throw invalidEntry('"spec" must hold only "proposedContent"; the log computes the hashes and signatures');
  }
  const proposed = field(s['proposedContent'], 'spec.proposedContent');
  const envelopeText = proposed['envelope'];
  if (typeof envelopeText !== 'string' || envelopeText.length === 0) {
    throw invalidEntry('"spec.proposedContent.envelope" must be the DSSE envelope as a JSON string');
  }
  const envelope = field(
    parseBoundedJson(envelopeText, EMBEDDED_JSON, '"spec.proposedContent.envelope"', () =>
      invalidEntry('"spec.proposedContent.envelope" is not valid JSON'),
    ),
    'spec.proposedContent.envelope',
  );
  const payloadType = envelope['payloadType'];
  if (typeof payloadType !== 'string' || payloadType.length === 0 || payloadType.length > 256) {
    throw invalidEntry('the envelope\'s "payloadType" must be a non-empty string');
  }
  const payload = base64Field(envelope['payload'], 'envelope.payload', 32 * 1024 * 1024);
  const signatures = envelope['signatures'];
  if (!Array.isArray(signatures) || signatures.length === 0 || signatures.length > MAX_SIGNATURES) {
    throw invalidEntry(`the envelope must carry 1 to ${MAX_SIGNATURES} "signatures"`);
  }
  const verifierList = proposed['verifiers'];
  if (!Array.isArray(verifierList) || verifierList.length === 0 || verifierList.length > MAX_SIGNATURES) {
    throw invalidEntry(`"spec.proposedContent.verifiers" must list 1 to ${MAX_SIGNATURES} base64 PEM keys`);
  }
  const verifiers = verifierList.map((v, i) => parseVerifier(v, `spec.proposedContent.verifiers[${i}]`));
  const pae = dsse.preAuthEncoding(payloadType, payload);
  const logged: { signature: string; verifier: EntryVerifier }[] = [];
  const sigs = signatures.map((sig, i) =>
    base64Field(field(sig, `envelope.signatures[${i}]`)['sig'], `envelope.signatures[${i}].sig`, 4096),
  );
  // EC keys are checked through signatureChecks (worker threads); other keys here.
  const verifies = (v: EntryVerifier, sig: Buffer) =>
    v.ec
      ? signatureChecks.verify({ ec: v.ec, message: pae, signature: sig })
      : verifyMessageSignature(v, pae, sig);
  for (const [i, sig] of sigs.entries()) {
    let verifier: EntryVerifier | undefined;
    for (const v of verifiers) {
      if (await verifies(v, sig)) {
        verifier = v;
        break;
      }
    }
    if (!verifier) {
      throw new ServerError(
        400,
        'INVALID_SIGNATURE',
        `envelope signature ${i} does not verify with any proposed verifier`,
      );
    }
    logged.push({ signature: sig.toString('base64'), verifier });
  }
  logged.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
  const envelopeHash = sha256(envelopeText);
  const payloadHash = sha256(payload);
  const body = canonicalBody({
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: envelopeHash },
      payloadHash: { algorithm: 'sha256', value: payloadHash },
      signatures: logged.map((l) => ({
        signature: l.signature,
        verifier: Buffer.from(l.verifier.canonicalPem).toString('base64'),
      })),
    },
  });
  const searchKeys = [
    ...logged.flatMap((l) => [keyIndexKey(l.verifier), ...l.verifier.subjects, ...l.verifier.identityKeys]),
    `sha256:${payloadHash}`,
    `sha256:${envelopeHash}`,
    ...(payloadType === IN_TOTO ? subjectDigests(payload) : []),
  ];
  // The envelope itself is not part of the entry (Rekor keeps only its hashes); it is handed on so
  // that the web page can show the statement (server/log/index-envelopes.ts).
  return { body, searchKeys: [...new Set(searchKeys)], envelope: envelopeText };
}
