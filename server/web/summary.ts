// What the web page lists for one log entry, read from its logged body (and, for DSSE, the kept
// envelope when its hash matches the body). Every string here may be attacker-chosen (the SAN and
// claims come from whoever obtained the certificate, the statement from whoever signed it): the
// page renders them as text only. Parsing never throws: a body it cannot read becomes a summary
// that says so.
import { createHash } from 'node:crypto';
import { pem, X509Certificate } from '@sigstore/core';
import { signerIdentity } from '../../policy/evidence/identity';
import type { FulcioClaims } from '../../policy/evidence/types';
import { badRequest } from '../errors';
import { EMBEDDED_JSON, parseBoundedJson } from '../json';
import type { StoredEntry } from '../log/store';

export interface EntryIdentity {
  subject: string;
  subjectKind: 'uri' | 'email' | 'other';
  issuer: string;
  claims: Partial<Record<keyof FulcioClaims, string>>;
}

export interface StatementSubject {
  name: string;
  digest: Record<string, string>;
}

export interface EntrySummary {
  logIndex: number;
  uuid: string;
  /** Seconds since the epoch: the log's integrated time (signed in the entry's SET). */
  integratedTime: number;
  kind: string;
  apiVersion: string;
  /** The signer from the certificate in the body; null for a bare public key or an unreadable one. */
  identity: EntryIdentity | null;
  /** Why identity is null, when it is. */
  identityProblem?: string;
  /** hashedrekord: the signed artifact's digest. */
  artifact?: { algorithm: string; digest: string };
  /** dsse: the payload's SHA-256 as logged. */
  payloadHash?: string;
  /** dsse with an in-toto payload whose envelope this server kept and that matches the logged hash. */
  statement?: { predicateType: string | null; subjects: StatementSubject[] };
  /** dsse: whether the envelope is kept here (and matches); without it no statement is shown. */
  envelopeKept?: boolean;
}

export interface ParsedBody {
  kind: string;
  apiVersion: string;
  spec: Record<string, unknown>;
  /** The signing certificate's DER, when the body carries a certificate. */
  certificate: Buffer | null;
}

function object(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function certificateOf(b64Pem: unknown): Buffer | null {
  if (typeof b64Pem !== 'string') return null;
  const text = Buffer.from(b64Pem, 'base64').toString('latin1');
  if (!text.startsWith('-----BEGIN CERTIFICATE-----')) return null;
  try {
    return pem.toDER(text);
  } catch {
    return null;
  }
}

/** Reads a canonical Rekor body (the log only ever stores bodies it canonicalised itself). */
export function parseBody(body: Buffer): ParsedBody {
  const parsed = object(JSON.parse(body.toString('utf8')));
  const kind = typeof parsed['kind'] === 'string' ? parsed['kind'] : 'unknown';
  const apiVersion = typeof parsed['apiVersion'] === 'string' ? parsed['apiVersion'] : 'unknown';
  const spec = object(parsed['spec']);
  let certificate: Buffer | null = null;
  if (kind === 'hashedrekord') {
    certificate = certificateOf(object(object(spec['signature'])['publicKey'])['content']);
  } else if (kind === 'dsse') {
    const first = Array.isArray(spec['signatures']) ? object(spec['signatures'][0]) : {};
    certificate = certificateOf(first['verifier']);
  }
  return { kind, apiVersion, spec, certificate };
}

export function identityOf(der: Buffer): EntryIdentity {
  const identity = signerIdentity(X509Certificate.parse(der as Buffer<ArrayBuffer>));
  const claims: EntryIdentity['claims'] = {};
  for (const [name, value] of Object.entries(identity.claims)) {
    if (typeof value === 'string' && name !== 'issuer') claims[name as keyof FulcioClaims] = value;
  }
  return { subject: identity.subject, subjectKind: identity.subjectKind, issuer: identity.issuer, claims };
}

/** The kept envelope when it hashes to the logged envelopeHash, with its payload. */
export function matchingEnvelope(
  parsed: ParsedBody,
  envelope: string | undefined,
): { text: string; payloadType: string; payload: Buffer } | null {
  if (parsed.kind !== 'dsse' || envelope === undefined) return null;
  const logged = object(parsed.spec['envelopeHash'])['value'];
  if (createHash('sha256').update(envelope).digest('hex') !== logged) return null;
  try {
    const e = object(parseBoundedJson(envelope, EMBEDDED_JSON, 'the envelope', () => badRequest('not JSON')));
    if (typeof e['payloadType'] !== 'string' || typeof e['payload'] !== 'string') return null;
    return { text: envelope, payloadType: e['payloadType'], payload: Buffer.from(e['payload'], 'base64') };
  } catch {
    return null;
  }
}

function statementOf(payload: Buffer): EntrySummary['statement'] | undefined {
  try {
    const statement = object(
      parseBoundedJson(payload.toString('utf8'), EMBEDDED_JSON, 'the statement', () =>
        badRequest('not JSON'),
      ),
    );
    const subjects = Array.isArray(statement['subject']) ? statement['subject'] : [];
    return {
      predicateType: typeof statement['predicateType'] === 'string' ? statement['predicateType'] : null,
      subjects: subjects.slice(0, 50).map((s) => {
        const subject = object(s);
        const digest: Record<string, string> = {};
        for (const [alg, value] of Object.entries(object(subject['digest']))) {
          if (typeof value === 'string') digest[alg] = value;
        }
        return { name: typeof subject['name'] === 'string' ? subject['name'] : '', digest };
      }),
    };
  } catch {
    return undefined;
  }
}

export function summarize(stored: StoredEntry, envelope: string | undefined): EntrySummary {
  const summary: EntrySummary = {
    logIndex: stored.index,
    uuid: stored.leafHash.toString('hex'),
    integratedTime: stored.integratedTime,
    kind: 'unknown',
    apiVersion: 'unknown',
    identity: null,
  };
  let parsed: ParsedBody;
  try {
    parsed = parseBody(stored.body);
  } catch {
    summary.identityProblem = 'the entry body is not JSON';
    return summary;
  }
  summary.kind = parsed.kind;
  summary.apiVersion = parsed.apiVersion;
  if (parsed.certificate) {
    try {
      summary.identity = identityOf(parsed.certificate);
    } catch (err) {
      summary.identityProblem = `the certificate names no usable identity: ${(err as Error).message}`;
    }
  } else {
    summary.identityProblem = 'the entry is signed by a bare public key, not a certificate';
  }
  if (parsed.kind === 'hashedrekord') {
    const hash = object(object(parsed.spec['data'])['hash']);
    if (typeof hash['algorithm'] === 'string' && typeof hash['value'] === 'string') {
      summary.artifact = { algorithm: hash['algorithm'], digest: hash['value'] };
    }
  } else if (parsed.kind === 'dsse') {
    const payloadHash = object(parsed.spec['payloadHash'])['value'];
    if (typeof payloadHash === 'string') summary.payloadHash = payloadHash;
    const kept = matchingEnvelope(parsed, envelope);
    summary.envelopeKept = kept !== null;
    if (kept && kept.payloadType === 'application/vnd.in-toto+json') {
      const statement = statementOf(kept.payload);
      if (statement) summary.statement = statement;
    }
  }
  return summary;
}
