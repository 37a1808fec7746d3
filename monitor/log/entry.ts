// One Rekor v1 log entry as served, checked for shape, and its canonical body read for what a
// monitor needs: the verifiers (certificates or keys) and the hashes it records. Nothing here is
// believed yet: the body is proven by its leaf hash against a signed tree, the time by the SET.
import { createHash } from 'node:crypto';
import { pem } from '@sigstore/core';
import { SourceError } from '../errors';
import { hashLeaf } from './merkle';

export interface InclusionProof {
  logIndex: number;
  treeSize: number;
  rootHash: string;
  hashes: string[];
  checkpoint: string;
}

export interface LogEntry {
  /** the UUID the log gave (64 hex, or 80 with a tree id prefix) */
  uuid: string;
  logIndex: number;
  integratedTime: number;
  logID: string;
  /** the canonical body: the bytes hashed into the tree */
  body: Buffer;
  leafHash: Buffer;
  /** base64, over {body, integratedTime, logID, logIndex} (canonical JSON) */
  signedEntryTimestamp?: string;
  /** the inclusion proof as served; read it with inclusionProofOf() */
  rawInclusionProof?: unknown;
  /** Rekor's stored attestation (the DSSE payload of intoto/dsse entries), when the log serves it */
  attestation?: Buffer;
}

const HEX64 = /^[0-9a-f]{64}$/;

function invalid(message: string): SourceError {
  return new SourceError('LOG_RESPONSE_INVALID', message);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{ "<uuid>": { body, integratedTime, logID, logIndex, verification } }` → entries. */
export function parseEntryMap(document: unknown): LogEntry[] {
  if (!isObject(document)) throw invalid('a log entry answer is not a JSON object keyed by UUID');
  return Object.entries(document).map(([uuid, raw]) => parseEntry(uuid, raw));
}

export function parseEntry(uuid: string, raw: unknown): LogEntry {
  if (!isObject(raw)) throw invalid(`entry ${uuid.slice(0, 16)}… is not an object`);
  const { body, integratedTime, logID, logIndex } = raw;
  if (typeof body !== 'string' || body.length === 0) throw invalid(`entry ${uuid.slice(0, 16)}… has no body`);
  if (!Number.isSafeInteger(logIndex) || (logIndex as number) < 0)
    throw invalid(`entry ${uuid.slice(0, 16)}… has no logIndex`);
  if (!Number.isSafeInteger(integratedTime)) throw invalid(`entry ${logIndex} has no integratedTime`);
  if (typeof logID !== 'string') throw invalid(`entry ${logIndex} has no logID`);
  const bodyBytes = Buffer.from(body, 'base64');
  const leafHash = hashLeaf(bodyBytes);
  // The UUID is the leaf hash (after an optional 16-hex tree id): a log that says otherwise is confused.
  if (uuid.slice(-64).toLowerCase() !== leafHash.toString('hex'))
    throw invalid(`entry ${logIndex}: its UUID is not the hash of its body`);
  const entry: LogEntry = {
    uuid,
    logIndex: logIndex as number,
    integratedTime: integratedTime as number,
    logID,
    body: bodyBytes,
    leafHash,
  };
  const verification = raw['verification'];
  if (isObject(verification)) {
    if (typeof verification['signedEntryTimestamp'] === 'string')
      entry.signedEntryTimestamp = verification['signedEntryTimestamp'];
    // Kept as served and checked only when used: a catch-up proves entries by the compact range and
    // needs no per-entry proof, and checking 20 hashes per entry would cost more than the rest.
    if (verification['inclusionProof'] !== undefined)
      entry.rawInclusionProof = verification['inclusionProof'];
  }
  const attestation = raw['attestation'];
  if (isObject(attestation) && typeof attestation['data'] === 'string')
    entry.attestation = Buffer.from(attestation['data'], 'base64');
  return entry;
}

/** The entry's inclusion proof, checked for shape; undefined when the log gave none. */
export function inclusionProofOf(entry: LogEntry): InclusionProof | undefined {
  const proof = entry.rawInclusionProof;
  if (proof === undefined) return undefined;
  const hashes = isObject(proof) ? proof['hashes'] : undefined;
  if (
    !isObject(proof) ||
    !Number.isSafeInteger(proof['logIndex']) ||
    !Number.isSafeInteger(proof['treeSize']) ||
    typeof proof['rootHash'] !== 'string' ||
    !Array.isArray(hashes) ||
    !hashes.every((h) => typeof h === 'string' && HEX64.test(h))
  ) {
    throw invalid(`entry ${entry.logIndex}: its inclusion proof is malformed`);
  }
  return {
    logIndex: proof['logIndex'] as number,
    treeSize: proof['treeSize'] as number,
    rootHash: proof['rootHash'] as string,
    hashes: hashes as string[],
    checkpoint: typeof proof['checkpoint'] === 'string' ? proof['checkpoint'] : '',
  };
}

/** What a canonical body records, by kind. Unknown kinds record nothing a monitor can use. */
export interface BodyFacts {
  kind: string;
  /** PEM texts of certificates or public keys that verified the signature(s) */
  verifiers: string[];
  /** sha256 hex of the DSSE / in-toto payload */
  payloadHash?: string;
  /** the signed artifact's digest (hashedrekord, rekord) */
  artifactDigest?: { algorithm: string; value: string };
}

const decodePem = (b64: unknown): string | undefined =>
  typeof b64 === 'string' ? Buffer.from(b64, 'base64').toString('utf8') : undefined;

function digestOf(value: unknown): { algorithm: string; value: string } | undefined {
  if (!isObject(value) || typeof value['algorithm'] !== 'string' || typeof value['value'] !== 'string')
    return undefined;
  return { algorithm: value['algorithm'].toLowerCase(), value: value['value'].toLowerCase() };
}

export function readBody(body: Buffer): BodyFacts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { kind: 'unreadable', verifiers: [] };
  }
  if (!isObject(parsed) || !isObject(parsed['spec'])) return { kind: 'unreadable', verifiers: [] };
  const kind = `${String(parsed['kind'])}/${String(parsed['apiVersion'])}`;
  const spec = parsed['spec'];
  const verifiers: string[] = [];
  const add = (b64: unknown) => {
    const text = decodePem(b64);
    if (text) verifiers.push(text);
  };
  const facts: BodyFacts = { kind, verifiers };
  switch (kind) {
    case 'hashedrekord/0.0.1':
    case 'rekord/0.0.1': {
      const signature = spec['signature'];
      if (isObject(signature) && isObject(signature['publicKey'])) add(signature['publicKey']['content']);
      const data = spec['data'];
      const digest = isObject(data) ? digestOf(data['hash']) : undefined;
      if (digest) facts.artifactDigest = digest;
      break;
    }
    case 'dsse/0.0.1': {
      const signatures = spec['signatures'];
      if (Array.isArray(signatures)) for (const s of signatures) if (isObject(s)) add(s['verifier']);
      const payload = digestOf(spec['payloadHash']);
      if (payload?.algorithm === 'sha256') facts.payloadHash = payload.value;
      break;
    }
    case 'intoto/0.0.2': {
      const content = spec['content'];
      const envelope = isObject(content) ? content['envelope'] : undefined;
      const signatures = isObject(envelope) ? envelope['signatures'] : undefined;
      if (Array.isArray(signatures)) for (const s of signatures) if (isObject(s)) add(s['publicKey']);
      const payload = isObject(content) ? digestOf(content['payloadHash']) : undefined;
      if (payload?.algorithm === 'sha256') facts.payloadHash = payload.value;
      break;
    }
    case 'intoto/0.0.1': {
      add(spec['publicKey']);
      const content = spec['content'];
      const payload = isObject(content) ? digestOf(content['payloadHash']) : undefined;
      if (payload?.algorithm === 'sha256') facts.payloadHash = payload.value;
      break;
    }
  }
  return facts;
}

/** The DER of a PEM certificate, or undefined for a bare key or anything unreadable. */
export function certificateDer(pemText: string): Buffer | undefined {
  if (!pemText.includes('-----BEGIN CERTIFICATE-----')) return undefined;
  try {
    return pem.toDER(pemText);
  } catch {
    return undefined;
  }
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
