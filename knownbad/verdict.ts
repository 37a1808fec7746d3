// Go/no-go verdicts: what tollgate-server's `GET /api/v1/verdict` answers and what the plugin checks.
// The answer is a DSSE envelope (payload type below) signed with the server's verdict key (ECDSA P-256,
// SHA-256, over DSSE's pre-authentication encoding, so the signature cannot be taken for anything the
// same key might sign in another protocol). A client verifies it with the public key it was configured
// with, and that the answer is about what it asked (purl, digest, and its own nonce against replays).
import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import type { KnownBadMatch } from '../policy/decision';

export const VERDICT_PAYLOAD_TYPE = 'application/vnd.tollgate.verdict+json';
export const VERDICT_FORMAT = 'tollgate.verdict/v1';

export type VerdictValue = 'go' | 'no-go' | 'unknown';

export interface VerdictAnswer {
  format: typeof VERDICT_FORMAT;
  purl: string;
  /** sha512:<hex>, when the question named a digest */
  digest?: string;
  /** echoed from the question */
  nonce?: string;
  verdict: VerdictValue;
  /** the database's matches (no-go) */
  matches: KnownBadMatch[];
  /** what the server's own log and attestation store hold for that digest: who signed it, when */
  signatures: Array<{
    issuer: string;
    subject: string;
    integratedTime?: string;
    logIndex?: number;
    kind: string;
  }>;
  database: { asOf?: string; records: number; sources: string[] };
  answeredAt: string;
}

export interface Envelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** DSSE v1 pre-authentication encoding. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

/** sha256 hex of the key's SubjectPublicKeyInfo: how answers name their key. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export function signVerdict(answer: VerdictAnswer, privateKey: KeyObject): Envelope {
  const payload = Buffer.from(JSON.stringify(answer), 'utf8');
  const sig = sign('sha256', pae(VERDICT_PAYLOAD_TYPE, payload), privateKey);
  return {
    payloadType: VERDICT_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyIdOf(privateKey), sig: sig.toString('base64') }],
  };
}

export class VerdictError extends Error {}

/** `sha512:<hex>` for a tarball's sha512 SRI. */
export function digestOfIntegrity(integrity: string): string {
  return `sha512:${Buffer.from(integrity.replace(/^sha512-/, ''), 'base64').toString('hex')}`;
}

/** Verifies a signed answer and that it answers this question; throws VerdictError. */
export function verifyVerdict(
  body: unknown,
  publicKey: KeyObject,
  question: { purl: string; digest?: string; nonce?: string },
): VerdictAnswer {
  const envelope = body as Partial<Envelope> | null;
  if (
    !envelope ||
    envelope.payloadType !== VERDICT_PAYLOAD_TYPE ||
    typeof envelope.payload !== 'string' ||
    !Array.isArray(envelope.signatures)
  )
    throw new VerdictError('the answer is not a signed verdict envelope');
  const payload = Buffer.from(envelope.payload, 'base64');
  const message = pae(VERDICT_PAYLOAD_TYPE, payload);
  const good = envelope.signatures.some((s) => {
    try {
      return typeof s?.sig === 'string' && verify('sha256', message, publicKey, Buffer.from(s.sig, 'base64'));
    } catch {
      return false;
    }
  });
  if (!good) throw new VerdictError('the answer is not signed by the configured verdict key');
  let answer: VerdictAnswer;
  try {
    answer = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new VerdictError('the signed answer is not JSON');
  }
  if (answer?.format !== VERDICT_FORMAT || !['go', 'no-go', 'unknown'].includes(answer.verdict))
    throw new VerdictError(`the signed answer is not in format ${VERDICT_FORMAT}`);
  if (answer.purl !== question.purl || answer.digest !== question.digest || answer.nonce !== question.nonce)
    throw new VerdictError(
      `the signed answer is about another question (${answer.purl} ${answer.digest ?? ''}, nonce ${answer.nonce ?? 'none'}): a replay or a confused service`,
    );
  if (!Array.isArray(answer.matches)) answer.matches = [];
  return answer;
}
