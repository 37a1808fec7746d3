// In-toto statements inside DSSE envelopes: the payload type, the statement's shape, and its subject.
// sigstore-js verifies the envelope signature but never looks at what the statement says it covers.
import type { Bundle } from '@sigstore/bundle';
import { truncate } from '../encoding';
import { EvidenceError } from '../error';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const STATEMENT_TYPES = ['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1'];

export interface Subject {
  name: string;
  digest: Record<string, string>;
}

export interface Statement {
  _type: string;
  subject: Subject[];
  predicateType: string;
  predicate: unknown;
}

/** Decodes the DSSE payload of an in-toto bundle, rejecting other payload types. */
export function readStatement(bundle: Bundle): Statement {
  if (bundle.content.$case !== 'dsseEnvelope') {
    throw new EvidenceError(
      'STATEMENT_MALFORMED',
      'bundle holds a message signature, not an in-toto statement',
    );
  }
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new EvidenceError(
      'PAYLOAD_TYPE_UNEXPECTED',
      `DSSE payloadType is "${truncate(envelope.payloadType, 80)}", expected "${IN_TOTO_PAYLOAD_TYPE}"`,
    );
  }
  let statement: Partial<Statement>;
  try {
    statement = JSON.parse(envelope.payload.toString('utf8'));
  } catch (err) {
    throw new EvidenceError('STATEMENT_MALFORMED', 'in-toto payload is not JSON', err);
  }
  if (!STATEMENT_TYPES.includes(statement?._type as string)) {
    throw new EvidenceError(
      'STATEMENT_MALFORMED',
      `in-toto _type is ${JSON.stringify(statement?._type)}, expected one of ${STATEMENT_TYPES.join(', ')}`,
    );
  }
  if (typeof statement.predicateType !== 'string') {
    throw new EvidenceError('STATEMENT_MALFORMED', 'in-toto statement has no predicateType');
  }
  const subjects = statement.subject;
  const wellFormed =
    Array.isArray(subjects) &&
    subjects.length > 0 &&
    subjects.every(
      (s) =>
        typeof s?.name === 'string' &&
        s.digest &&
        typeof s.digest === 'object' &&
        Object.values(s.digest).every((d) => typeof d === 'string'),
    );
  if (!wellFormed) {
    throw new EvidenceError(
      'STATEMENT_MALFORMED',
      'in-toto subject must be a non-empty list of {name, digest}',
    );
  }
  return statement as Statement;
}

/**
 * The statement must name this package version and tarball: exactly one subject, whose name is the
 * expected purl and whose sha512 is the tarball's. npm attestations always have one subject; a
 * statement about several artifacts is not evidence about this one.
 */
export function assertSubjectIsPackage(statement: Statement, purl: string, tarballSha512: Buffer): void {
  const expected = `${purl} with sha512 ${tarballSha512.toString('hex').slice(0, 16)}…`;
  if (statement.subject.length !== 1) {
    throw new EvidenceError(
      'SUBJECT_MISMATCH',
      `statement names ${statement.subject.length} subjects, expected exactly one: ${expected}`,
    );
  }
  const [subject] = statement.subject as [Subject];
  if (subject.name !== purl) {
    throw new EvidenceError(
      'SUBJECT_MISMATCH',
      `statement subject is "${truncate(subject.name, 120)}", expected ${purl}`,
    );
  }
  const sha512 = subject.digest['sha512'];
  if (typeof sha512 !== 'string' || sha512.toLowerCase() !== tarballSha512.toString('hex')) {
    throw new EvidenceError(
      'SUBJECT_MISMATCH',
      `statement subject ${purl} has sha512 ${sha512 ? `${truncate(sha512, 16)}` : '(none)'}, expected the tarball's ${tarballSha512.toString('hex').slice(0, 16)}…`,
    );
  }
}

/** Conformance: some subject must carry the artifact's digest (any name, as in sigstore clients). */
export function assertSubjectHasDigest(statement: Statement, algorithm: string, digest: Buffer): void {
  const hex = digest.toString('hex');
  if (!statement.subject.some((s) => s.digest[algorithm]?.toLowerCase() === hex)) {
    throw new EvidenceError('SUBJECT_MISMATCH', `no in-toto subject has ${algorithm} ${hex}`);
  }
}
