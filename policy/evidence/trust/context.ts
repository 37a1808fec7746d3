// A TrustContext is every trust root and key a verification may use, parsed once and reused for
// every package: trusted roots become sigstore-js TrustMaterial with a ready Verifier, CA
// certificates are memoised (prepared-certificates.ts) and indexed by their bytes
// (certificate-index.ts), npm keys become KeyObjects.
//
// Thresholds are per root. Every root needs one verified transparency-log entry (tlogThreshold 1) and
// one verified timestamp. ctlogThreshold is 1 when the root lists certificate transparency logs and 0
// when its "ctlogs" list is empty: a private CA (such as a local tollgate-server) that runs no CT log
// cannot produce SCTs, and its trusted root says so by listing none. A root that lists CT logs always
// requires an SCT, and an SCT the root cannot verify always fails.

import { createPublicKey, type KeyObject } from 'node:crypto';
import { json } from '@sigstore/core';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { type TrustMaterial, toTrustMaterial, Verifier } from '@sigstore/verify';
import { sha256Hex } from '../encoding';
import { EvidenceError, TrustConfigError } from '../error';
import { installFastDerEncoding } from '../perf/der-encoding';
import { CertificateIndex } from './certificate-index';
import { isKeyValidAt, type NpmRegistryKey, parseNpmRegistryKeys } from './npm-keys';
import { prepareCertificates, rootCertificateDers } from './prepared-certificates';
import { embeddedNpmRegistryKeys, embeddedPublicGoodTrustedRoot } from './seeds';
import { SpkiCache } from './spki-cache';
import { parseTrustedRoot } from './trusted-root';

export const PUBLIC_GOOD = 'public-good';

/** A public key trusted for key-signed bundles (not npm registry keys, which come separately). */
export interface TrustedPublicKeySpec {
  /** The bundle's `publicKey.hint` it answers to; omitted = any hint (conformance `--key`). */
  hint?: string;
  /** PEM, or base64 DER SPKI. */
  publicKey: string;
}

export interface TrustRootSpec {
  /** "public-good" alone means the public-good root embedded in @sigstore/tuf. */
  name: string;
  /** trusted_root.json text or parsed object; required unless name is "public-good". */
  trustedRootJson?: string | object;
  /** Override the derived thresholds (see the module comment). */
  thresholds?: Partial<Thresholds>;
  /** Keys for key-signed bundles verified under this root (besides npm attestation keys). */
  publicKeys?: TrustedPublicKeySpec[];
}

export interface TrustOptions {
  /** Also trust the npm registry keys embedded in @sigstore/tuf. Default true. */
  embeddedNpmKeys?: boolean;
  /** More npm keys documents (TUF target or registry keys endpoint format). */
  npmKeys?: (string | object)[];
  /**
   * Skip every memoisation, the single-allocation DER encoder and the non-throwing DER parser, and
   * verify exactly as sigstore-js alone would call it: the reference path tests compare against.
   */
  reference?: boolean;
}

export interface Thresholds {
  ctlogThreshold: number;
  tlogThreshold: number;
  timestampThreshold: number;
}

export interface PreparedTrustRoot {
  name: string;
  /** sha256 hex over the canonical trusted root JSON, its thresholds and its extra keys. */
  digest: string;
  trustedRoot: TrustedRoot;
  material: TrustMaterial;
  thresholds: Thresholds;
  verifier: Verifier;
  /** DER of the root's self-signed CA certificates. */
  rootCertificates: Buffer[];
  /** hex log ids of its transparency logs */
  tlogIds: Set<string>;
}

/** What the fast path reuses across bundles; derived from trust material only, never from a bundle. */
export interface PreparedTrust {
  /** Every root's CA certificates by their exact bytes, their KeyObjects, known encodings. */
  certificates: CertificateIndex;
  /** SPKI exports of the context's own keys. */
  spki: SpkiCache;
}

export interface TrustContext {
  roots: PreparedTrustRoot[];
  npmKeys: NpmRegistryKey[];
  /** Content digest over every root and key: a cache key component. */
  digest: string;
  /** The inputs it was built from, so a worker thread can build the same context. */
  specs: { roots: TrustRootSpec[]; options: TrustOptions };
  /** Absent on the reference path. */
  prepared?: PreparedTrust;
}

function rootJson(spec: TrustRootSpec): string | object {
  if (spec.trustedRootJson !== undefined) return spec.trustedRootJson;
  if (spec.name === PUBLIC_GOOD) return embeddedPublicGoodTrustedRoot();
  throw new TrustConfigError(
    'TRUST_ROOT_INVALID',
    `trust root "${spec.name}": give its trustedRootJson (only "${PUBLIC_GOOD}" is built in)`,
  );
}

function asObject(json: string | object): unknown {
  return typeof json === 'string' ? JSON.parse(json) : json;
}

function loadPublicKey(spec: TrustedPublicKeySpec, rootName: string): KeyObject {
  try {
    const text = spec.publicKey.trim();
    return text.startsWith('-----')
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
  } catch (err) {
    throw new TrustConfigError('TRUST_KEY_INVALID', `trust root "${rootName}": unreadable public key`, err);
  }
}

// Key-signed bundles find their key by hint: the root's own keys first, then npm attestation keys.
function keyFinder(rootName: string, own: TrustedPublicKeySpec[], npmKeys: NpmRegistryKey[]) {
  const ownKeys = own.map((spec) => ({ hint: spec.hint, key: loadPublicKey(spec, rootName) }));
  const attestationKeys = npmKeys.filter((k) => k.usage === 'npm:attestations');
  return (hint: string) => {
    const mine = ownKeys.find((k) => k.hint === undefined || k.hint === hint);
    if (mine) return { publicKey: mine.key, validFor: () => true };
    const npm = attestationKeys.find((k) => k.keyId === hint);
    if (npm) return { publicKey: npm.publicKey, validFor: (date: Date) => isKeyValidAt(npm, date) };
    throw new EvidenceError('PUBLIC_KEY_UNKNOWN', `no trusted key has the hint "${hint}"`);
  };
}

function prepareRoot(
  spec: TrustRootSpec,
  npmKeys: NpmRegistryKey[],
  index: CertificateIndex | undefined,
): PreparedTrustRoot {
  const trustedRoot = parseTrustedRoot(rootJson(spec), spec.name);
  const publicKeys = spec.publicKeys ?? [];
  const material = toTrustMaterial(trustedRoot, keyFinder(spec.name, publicKeys, npmKeys));
  if (index) prepareCertificates(material, index);
  const thresholds: Thresholds = {
    ctlogThreshold: trustedRoot.ctlogs.length > 0 ? 1 : 0,
    tlogThreshold: 1,
    timestampThreshold: 1,
    ...spec.thresholds,
  };
  const digest = sha256Hex(
    json.canonicalize({
      trustedRoot: asObject(rootJson(spec)),
      thresholds,
      publicKeys: publicKeys.map((k) => ({ hint: k.hint ?? null, publicKey: k.publicKey.trim() })),
    }),
  );
  return {
    name: spec.name,
    digest,
    trustedRoot,
    material,
    thresholds,
    verifier: new Verifier(material, thresholds),
    rootCertificates: rootCertificateDers(material),
    tlogIds: new Set(trustedRoot.tlogs.map((t) => Buffer.from(t.logId?.keyId ?? []).toString('hex'))),
  };
}

/**
 * Parses and prepares trust roots once. Throws TrustConfigError (code TRUST_ROOT_INVALID or
 * TRUST_KEY_INVALID, naming the root or key) when configuration is unusable: that is a setup error,
 * not bad evidence. Order matters only for which root a bundle is reported as verified by.
 */
export function loadTrustRoots(roots: TrustRootSpec[], options: TrustOptions = {}): TrustContext {
  if (roots.length === 0) throw new TrustConfigError('TRUST_ROOT_INVALID', 'no trust roots given');
  const names = new Set<string>();
  for (const r of roots) {
    if (!r.name || names.has(r.name)) {
      throw new TrustConfigError(
        'TRUST_ROOT_INVALID',
        `trust root names must be unique and non-empty: "${r.name}"`,
      );
    }
    names.add(r.name);
  }
  if (!options.reference) installFastDerEncoding();
  const npmKeyDocs = [
    ...(options.embeddedNpmKeys === false
      ? []
      : [{ doc: embeddedNpmRegistryKeys(), origin: 'embedded npm keys' }]),
    ...(options.npmKeys ?? []).map((doc, i) => ({ doc, origin: `npmKeys[${i}]` })),
  ];
  const npmKeys = npmKeyDocs.flatMap(({ doc, origin }) => parseNpmRegistryKeys(doc, origin));
  const index = options.reference ? undefined : new CertificateIndex();
  const prepared = roots.map((spec) => prepareRoot(spec, npmKeys, index));
  const digest = sha256Hex(
    json.canonicalize({
      roots: prepared.map((r) => [r.name, r.digest]),
      npmKeys: npmKeys.map((k) => [
        k.keyId,
        k.usage,
        k.spki.toString('base64'),
        k.validFrom?.toISOString() ?? null,
        k.validUntil?.toISOString() ?? null,
      ]),
    }),
  );
  const context: TrustContext = { roots: prepared, npmKeys, digest, specs: { roots, options } };
  if (index) context.prepared = { certificates: index, spki: new SpkiCache() };
  return context;
}
