// Verifies one log entry in the browser, with WebCrypto (SHA-256, ECDSA) and the trusted root the
// page fetched: nothing the server says about the entry is believed. Each check is reported on its
// own; the entry is "verified in your browser" only when every check passes.
//
// - the log key: a tlog of the trusted root whose logId is the entry's logID, valid at its time;
// - the signed entry timestamp (SET) over {body, integratedTime, logID, logIndex};
// - the leaf hash of the logged body, and the RFC 9162 inclusion proof from it to the root;
// - the checkpoint: a signed note by that key (key hint, signer name = the host of the tlog's
//   baseUrl) for the proof's tree size and the root the proof computes;
// - the certificate in the body: signed by a CA of the trusted root, valid at the signed time;
// - for DSSE, when the server kept the envelope: its hash and its payload's hash are the logged
//   ones and its signature verifies with the certificate's key.

import { concat, equal, fromBase64, fromHex, sha256, toHex, utf8 } from './bytes';
import {
  type CertificateView,
  CURVE_SIZES,
  ecdsaRawSignature,
  parseCertificate,
  SIGNATURE_HASHES,
} from './cert';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface RekorEntry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: {
    signedEntryTimestamp: string;
    inclusionProof: {
      logIndex: number;
      treeSize: number;
      rootHash: string;
      hashes: string[];
      checkpoint: string;
    };
  };
}

interface TrustedKey {
  publicKey?: { rawBytes?: string; keyDetails?: string; validFor?: { start?: string; end?: string } };
  logId?: { keyId?: string };
  baseUrl?: string;
}

export interface TrustedRoot {
  tlogs?: TrustedKey[];
  certificateAuthorities?: {
    certChain?: { certificates?: { rawBytes?: string }[] };
    validFor?: { start?: string; end?: string };
    uri?: string;
  }[];
}

export interface Verification {
  ok: boolean;
  checks: Check[];
  certificate: CertificateView | null;
}

const KEY_CURVES: Record<string, string> = {
  PKIX_ECDSA_P256_SHA_256: 'P-256',
  PKIX_ECDSA_P384_SHA_384: 'P-384',
};

class CheckFailed extends Error {}

function within(validFor: { start?: string; end?: string } | undefined, at: Date): boolean {
  if (!validFor?.start) return false;
  const start = Date.parse(validFor.start);
  const end = validFor.end ? Date.parse(validFor.end) : Number.POSITIVE_INFINITY;
  return start <= at.getTime() && at.getTime() <= end;
}

async function ecdsaVerify(
  spki: Uint8Array<ArrayBuffer>,
  curve: string,
  hash: string,
  derSignature: Uint8Array<ArrayBuffer>,
  message: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  const key = await crypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: curve }, false, [
    'verify',
  ]);
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = ecdsaRawSignature(derSignature, CURVE_SIZES[curve]!);
  } catch {
    return false;
  }
  return crypto.subtle.verify({ name: 'ECDSA', hash }, key, raw, message);
}

const hashChildren = (left: Uint8Array, right: Uint8Array) => sha256(concat(Uint8Array.of(1), left, right));

/** RFC 9162 section 2.1.3.2: the root an inclusion proof gives for a leaf. */
export async function rootFromProof(
  index: number,
  size: number,
  leafHash: Uint8Array<ArrayBuffer>,
  proof: Uint8Array<ArrayBuffer>[],
): Promise<Uint8Array<ArrayBuffer>> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size)
    throw new CheckFailed(`log index ${index} is not inside a tree of ${size} entries`);
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leafHash;
  for (const p of proof) {
    if (p.length !== 32) throw new CheckFailed('a proof hash is not 32 bytes');
    if (sn === 0n) throw new CheckFailed('the proof has more hashes than the tree is deep');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await hashChildren(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new CheckFailed('the proof has fewer hashes than the tree is deep');
  return r;
}

interface Note {
  origin: string;
  size: number;
  root: Uint8Array<ArrayBuffer>;
  body: string;
  signatures: { name: string; hint: Uint8Array; signature: Uint8Array<ArrayBuffer> }[];
}

function parseNote(text: string): Note {
  const split = text.indexOf('\n\n');
  if (split < 0) throw new CheckFailed('the checkpoint is not a signed note (no blank line)');
  const body = text.slice(0, split + 1);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3 || !/^[1-9]\d{0,15}$|^0$/.test(lines[1]!))
    throw new CheckFailed('the checkpoint does not start with origin, tree size and root');
  const root = fromBase64(lines[2]!);
  if (root.length !== 32) throw new CheckFailed('the checkpoint root is not 32 bytes');
  const signatures: Note['signatures'] = [];
  for (const line of text.slice(split + 2).split('\n')) {
    if (line === '') continue;
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!match) throw new CheckFailed('a checkpoint signature line is malformed');
    const bytes = fromBase64(match[2]!);
    if (bytes.length < 5) throw new CheckFailed('a checkpoint signature is too short');
    signatures.push({ name: match[1]!, hint: bytes.subarray(0, 4), signature: bytes.slice(4) });
  }
  return { origin: lines[0]!, size: Number(lines[1]), root, body, signatures };
}

async function step(checks: Check[], name: string, run: () => Promise<string>): Promise<boolean> {
  try {
    checks.push({ name, ok: true, detail: await run() });
    return true;
  } catch (err) {
    const message =
      err instanceof CheckFailed
        ? err.message
        : `could not be checked: ${(err as Error)?.message ?? String(err)}`;
    checks.push({ name, ok: false, detail: message });
    return false;
  }
}

function canonicalSetPayload(entry: RekorEntry): string {
  // Keys in sorted order, values a string and integers: RFC 8785 for this shape.
  return `{"body":${JSON.stringify(entry.body)},"integratedTime":${entry.integratedTime},"logID":${JSON.stringify(entry.logID)},"logIndex":${entry.logIndex}}`;
}

interface BodySpec {
  signature?: { publicKey?: { content?: unknown } };
  signatures?: { verifier?: unknown }[];
  envelopeHash?: { value?: unknown };
  payloadHash?: { value?: unknown };
}

function certificateFromBody(body: Record<string, unknown>): Uint8Array<ArrayBuffer> | null {
  const spec = (body['spec'] ?? {}) as BodySpec;
  const b64Pem: unknown =
    body['kind'] === 'hashedrekord' ? spec?.signature?.publicKey?.content : spec?.signatures?.[0]?.verifier;
  if (typeof b64Pem !== 'string') return null;
  const text = new TextDecoder().decode(fromBase64(b64Pem));
  const match = /^-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----\r?\n?$/.exec(
    text,
  );
  return match ? fromBase64(match[1]!.replace(/\s/g, '')) : null;
}

function pae(payloadType: string, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const type = utf8(payloadType);
  return concat(utf8(`DSSEv1 ${type.length} `), type, utf8(` ${payload.length} `), payload);
}

export async function verifyEntry(
  uuid: string,
  entry: RekorEntry,
  root: TrustedRoot,
  envelope: string | null,
): Promise<Verification> {
  const checks: Check[] = [];
  const signedAt = new Date(entry.integratedTime * 1000);
  const proof = entry.verification?.inclusionProof;
  let logKey: { spki: Uint8Array<ArrayBuffer>; curve: string; id: Uint8Array; host: string } | null = null;
  let body: Record<string, unknown> = {};
  let bodyBytes: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  let certificate: CertificateView | null = null;

  await step(checks, 'Log key in the trusted root', async () => {
    const id = fromHex(entry.logID);
    for (const tlog of root.tlogs ?? []) {
      const keyId = tlog.logId?.keyId ? fromBase64(tlog.logId.keyId) : null;
      if (!keyId || !equal(keyId, id)) continue;
      const curve = KEY_CURVES[tlog.publicKey?.keyDetails ?? ''];
      if (!curve || !tlog.publicKey?.rawBytes)
        throw new CheckFailed(`the log key's type ${tlog.publicKey?.keyDetails} is not one this page checks`);
      if (!within(tlog.publicKey.validFor, signedAt))
        throw new CheckFailed(`the log key is not valid at the entry's time ${signedAt.toISOString()}`);
      const spki = fromBase64(tlog.publicKey.rawBytes);
      if (!equal(await sha256(spki), id)) throw new CheckFailed("the log's ID is not the SHA-256 of its key");
      logKey = { spki, curve, id, host: new URL(tlog.baseUrl ?? '').hostname };
      return `log ${entry.logID.slice(0, 16)}… (${curve}), valid since ${tlog.publicKey.validFor?.start}`;
    }
    throw new CheckFailed(`no log with ID ${entry.logID} in the trusted root`);
  });

  await step(checks, 'Signed entry timestamp', async () => {
    if (!logKey) throw new CheckFailed('no trusted log key');
    const ok = await ecdsaVerify(
      logKey.spki,
      logKey.curve,
      'SHA-256',
      fromBase64(entry.verification.signedEntryTimestamp),
      utf8(canonicalSetPayload(entry)),
    );
    if (!ok) throw new CheckFailed('the SET does not verify with the log key');
    return `the log signed this body at ${signedAt.toISOString()} as entry ${entry.logIndex}`;
  });

  let computedRoot: Uint8Array<ArrayBuffer> | null = null;
  await step(checks, 'Inclusion proof', async () => {
    bodyBytes = fromBase64(entry.body);
    body = JSON.parse(new TextDecoder().decode(bodyBytes));
    const leaf = await sha256(concat(Uint8Array.of(0), bodyBytes));
    if (toHex(leaf) !== uuid.toLowerCase().slice(-64))
      throw new CheckFailed('the body does not hash to the entry UUID');
    if (proof.logIndex !== entry.logIndex) throw new CheckFailed('the proof is for another log index');
    computedRoot = await rootFromProof(proof.logIndex, proof.treeSize, leaf, proof.hashes.map(fromHex));
    if (!equal(computedRoot, fromHex(proof.rootHash)))
      throw new CheckFailed(`the proof gives root ${toHex(computedRoot)}, not the stated ${proof.rootHash}`);
    return `${proof.hashes.length} hashes from the leaf to root ${proof.rootHash.slice(0, 16)}… of ${proof.treeSize} entries`;
  });

  await step(checks, 'Checkpoint signature', async () => {
    if (!logKey) throw new CheckFailed('no trusted log key');
    const key = logKey as { spki: Uint8Array<ArrayBuffer>; curve: string; id: Uint8Array; host: string };
    const note = parseNote(proof.checkpoint);
    const signature = note.signatures.find(
      (s) => equal(s.hint, key.id.subarray(0, 4)) && s.name === key.host,
    );
    if (!signature)
      throw new CheckFailed(`the checkpoint carries no signature by the log key named ${key.host}`);
    if (!(await ecdsaVerify(key.spki, key.curve, 'SHA-256', signature.signature, utf8(note.body))))
      throw new CheckFailed('the checkpoint signature does not verify with the log key');
    if (note.size !== proof.treeSize)
      throw new CheckFailed(`the checkpoint is for ${note.size} entries, the proof for ${proof.treeSize}`);
    if (!computedRoot || !equal(note.root, computedRoot))
      throw new CheckFailed('the signed checkpoint root is not the root the inclusion proof gives');
    return `signed by ${signature.name} for ${note.size} entries (origin ${note.origin})`;
  });

  await step(checks, 'Certificate issued by a trusted CA', async () => {
    const der = certificateFromBody(body);
    if (!der) throw new CheckFailed('the logged body holds no certificate');
    certificate = parseCertificate(der);
    const cert = certificate;
    if (signedAt < cert.notBefore || signedAt > cert.notAfter)
      throw new CheckFailed(`the certificate is not valid at the signed time ${signedAt.toISOString()}`);
    const hash = SIGNATURE_HASHES[cert.signatureAlgorithm];
    if (!hash)
      throw new CheckFailed(`signature algorithm ${cert.signatureAlgorithm} is not one this page checks`);
    for (const ca of root.certificateAuthorities ?? []) {
      const issuerRaw = ca.certChain?.certificates?.[0]?.rawBytes;
      if (!issuerRaw) continue;
      const issuer = parseCertificate(fromBase64(issuerRaw));
      if (!equal(issuer.subjectDer, cert.issuerDer) || !issuer.curve) continue;
      if (!within(ca.validFor, signedAt)) continue;
      if (await ecdsaVerify(issuer.spki, issuer.curve, hash, cert.signature, cert.tbs))
        return `signed by ${issuer.subjectName}; valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}`;
    }
    throw new CheckFailed('no certificate authority of the trusted root signed this certificate');
  });

  if (body['kind'] === 'dsse') {
    if (envelope === null) {
      checks.push({
        name: 'DSSE envelope',
        ok: true,
        detail: 'not kept by this server: the log holds only its hashes, so the statement is not shown',
      });
    } else {
      await step(checks, 'DSSE envelope and signature', async () => {
        const spec = body['spec'] as BodySpec | undefined;
        if (toHex(await sha256(utf8(envelope))) !== spec?.envelopeHash?.value)
          throw new CheckFailed('the envelope does not hash to the logged envelopeHash');
        const parsed = JSON.parse(envelope) as {
          payload: string;
          payloadType: string;
          signatures: { sig: string }[];
        };
        const payload = fromBase64(parsed.payload);
        if (toHex(await sha256(payload)) !== spec?.payloadHash?.value)
          throw new CheckFailed('the payload does not hash to the logged payloadHash');
        const cert = certificate as CertificateView | null;
        if (!cert?.curve) throw new CheckFailed('no certificate key to check the signature with');
        const ok = await ecdsaVerify(
          cert.spki,
          cert.curve,
          'SHA-256',
          fromBase64(parsed.signatures[0]!.sig),
          pae(parsed.payloadType, payload),
        );
        if (!ok) throw new CheckFailed("the envelope's signature does not verify with the certificate's key");
        return `envelope and payload match the logged hashes; the signature verifies with the certificate's key`;
      });
    }
  }
  return { ok: checks.every((c) => c.ok), checks, certificate };
}
