// C2SP signed-note checkpoints as Rekor v1 publishes them (c2sp.org/tlog-checkpoint,
// c2sp.org/signed-note):
//   <origin>\n<size>\n<base64 root hash>\n[<extension lines>\n]\n— <name> <base64(key hint || signature)>\n
// A checkpoint is believed only when a signature by a log key from the trusted root verifies over
// the note text. Signatures by unknown keys are ignored, as the spec says; a signature that names a
// trusted key and does not verify makes the whole note invalid.
import { verify } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { SourceError } from '../errors';

export type LogKey = TrustMaterial['tlogs'][number];

export interface Checkpoint {
  origin: string;
  size: number;
  /** 32 bytes */
  rootHash: Buffer;
  /** the signed note exactly as served (kept so two observers can compare the same bytes) */
  note: string;
}

export interface VerifiedCheckpoint extends Checkpoint {
  /** hex log id (SHA-256 of the log key) of the key whose signature verified */
  logId: string;
}

const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/;
const MAX_NOTE = 64 * 1024;

function malformed(message: string): SourceError {
  return new SourceError('CHECKPOINT_INVALID', `the checkpoint is malformed: ${message}`);
}

/** Parses a signed note without believing it. */
export function parseCheckpoint(
  note: unknown,
): Checkpoint & { signatures: { name: string; hint: Buffer; signature: Buffer }[]; body: string } {
  if (typeof note !== 'string' || note.length === 0 || note.length > MAX_NOTE) throw malformed('not a note');
  const split = note.indexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw malformed('no blank line between the body and the signatures');
  const body = note.slice(0, split + 1);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('the body needs an origin, a size and a root hash');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (origin.length === 0) throw malformed('empty origin');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText)))
    throw malformed(`tree size "${sizeText.slice(0, 40)}" is not a decimal number`);
  const rootHash = Buffer.from(rootText, 'base64');
  if (rootHash.length !== 32 || rootHash.toString('base64') !== rootText)
    throw malformed('the root hash is not 32 bytes of standard base64');
  const signatures = note
    .slice(split + 2, -1)
    .split('\n')
    .map((line) => {
      const match = SIGNATURE_LINE.exec(line);
      if (!match) throw malformed(`unreadable signature line "${line.slice(0, 60)}"`);
      const bytes = Buffer.from(match[2]!, 'base64');
      if (bytes.length < 5) throw malformed('a signature is too short');
      return { name: match[1]!, hint: bytes.subarray(0, 4), signature: bytes.subarray(4) };
    });
  return { origin, size: Number(sizeText), rootHash, note, signatures, body };
}

/** The signer name a log key answers to: the host of its trusted-root baseUrl (as Rekor v1 signs). */
function keyName(key: LogKey): string | undefined {
  try {
    return new URL(key.baseURL).hostname;
  } catch {
    return undefined;
  }
}

/**
 * Verifies a signed note against the trusted log keys. The key hint is the first four bytes of the
 * log id (Rekor v1's convention), the signer name must be the host of that log's baseUrl.
 */
export function verifyCheckpoint(note: unknown, keys: readonly LogKey[]): VerifiedCheckpoint {
  const parsed = parseCheckpoint(note);
  const data = Buffer.from(parsed.body, 'utf8');
  let verifiedBy: LogKey | undefined;
  for (const sig of parsed.signatures) {
    const key = keys.find((k) => k.logID.subarray(0, 4).equals(sig.hint) && keyName(k) === sig.name);
    if (!key) continue;
    const algorithm = key.publicKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
    let ok = false;
    try {
      ok = verify(algorithm, data, key.publicKey, sig.signature);
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new SourceError(
        'CHECKPOINT_INVALID',
        `the checkpoint's signature by ${sig.name} (log ${key.logID.toString('hex').slice(0, 16)}…) does not verify`,
      );
    }
    verifiedBy ??= key;
  }
  if (!verifiedBy) {
    const names = parsed.signatures.map((s) => `${s.name} (key hint ${s.hint.toString('hex')})`).join(', ');
    throw new SourceError(
      'CHECKPOINT_INVALID',
      `the checkpoint is signed by no log key of the trusted root (signatures: ${names})`,
    );
  }
  return {
    origin: parsed.origin,
    size: parsed.size,
    rootHash: parsed.rootHash,
    note: parsed.note,
    logId: verifiedBy.logID.toString('hex'),
  };
}
