// What the attestation store checks before it keeps a bundle: the Sigstore bundle shape with every
// bytes field in strict base64 (the protobuf JSON decoder is lenient, and a stricter verifier would
// then refuse what this one accepted), a DSSE in-toto envelope, a signature that verifies against
// this server's own trusted root at default thresholds, and a statement subject naming the package
// version it is attached to. The tarball digest cannot be checked here: the store never sees the
// tarball, so verifiers check it at install.
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { isStrictBase64 } from '../encoding';
import { ServerError } from '../errors';
import { EMBEDDED_JSON, parseBoundedJson } from '../json';
import { npmPurl, type PackageVersion } from './package-spec';

const IN_TOTO = 'application/vnd.in-toto+json';

// Bundle fields whose JSON form is base64 bytes (Sigstore bundle v0.1 to v0.3).
const BYTES_FIELDS = new Set([
  'rawBytes',
  'keyId',
  'canonicalizedBody',
  'signedEntryTimestamp',
  'rootHash',
  'payload',
  'sig',
  'signature',
  'digest',
  'signedTimestamp',
]);

export interface CheckedBundle {
  predicateType: string;
  bundle: Record<string, unknown>;
  /** The identity the bundle verified as: certificate SAN and issuer. */
  signer: { subjectAlternativeName: string | null; issuer: string | null };
}

const invalidBundle = (message: string) => new ServerError(400, 'INVALID_BUNDLE', message);

// What verification work one bundle may ask for: each tlog entry, certificate and signature is
// verified, so their number bounds how long one upload can hold the event loop.
const BOUNDS: [path: string[], max: number][] = [
  [['verificationMaterial', 'tlogEntries'], 8],
  [['verificationMaterial', 'x509CertificateChain', 'certificates'], 8],
  [['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps'], 8],
  [['dsseEnvelope', 'signatures'], 8],
];

function assertBounded(bundle: Record<string, unknown>): void {
  for (const [path, max] of BOUNDS) {
    let value: unknown = bundle;
    for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
    if (Array.isArray(value) && value.length > max) {
      throw invalidBundle(
        `"bundle.${path.join('.')}" has ${value.length} items; at most ${max} are accepted`,
      );
    }
  }
  const entries = (bundle['verificationMaterial'] as { tlogEntries?: unknown } | undefined)?.tlogEntries;
  for (const [i, entry] of (Array.isArray(entries) ? entries : []).entries()) {
    const hashes = (entry as { inclusionProof?: { hashes?: unknown } } | null)?.inclusionProof?.hashes;
    if (Array.isArray(hashes) && hashes.length > 64) {
      throw invalidBundle(
        `"bundle.verificationMaterial.tlogEntries[${i}].inclusionProof.hashes" has more than 64 hashes`,
      );
    }
  }
}

function assertStrictBytes(value: unknown, path: string): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      assertStrictBytes(item, `${path}[${i}]`);
    });
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      const childPath = `${path}.${key}`;
      if (BYTES_FIELDS.has(key) && typeof child === 'string') {
        if (!isStrictBase64(child, 16 * 1024 * 1024))
          throw invalidBundle(`"${childPath}" must be standard base64 (with padding, no whitespace)`);
      } else if (key === 'hashes' && Array.isArray(child)) {
        child.forEach((hash, i) => {
          if (!isStrictBase64(hash, 1024))
            throw invalidBundle(`"${childPath}[${i}]" must be standard base64 (with padding, no whitespace)`);
        });
      } else {
        assertStrictBytes(child, childPath);
      }
    }
  }
}

export class BundleChecker {
  private verifier?: Verifier;

  constructor(private readonly trustedRootJson: () => Record<string, unknown>) {}

  check(pkg: PackageVersion, body: unknown): CheckedBundle {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw invalidBundle('the request body must be a Sigstore bundle (or {"bundle": <bundle>})');
    }
    const candidate = (body as Record<string, unknown>)['bundle'] ?? body;
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
      throw invalidBundle('"bundle" must be a Sigstore bundle object');
    }
    assertBounded(candidate as Record<string, unknown>);
    assertStrictBytes(candidate, 'bundle');
    let bundle: ReturnType<typeof bundleFromJSON>;
    try {
      bundle = bundleFromJSON(candidate);
    } catch (err) {
      throw invalidBundle(`the body is not a valid Sigstore bundle: ${(err as Error).message}`);
    }
    if (bundle.content.$case !== 'dsseEnvelope' || bundle.content.dsseEnvelope.payloadType !== IN_TOTO) {
      throw invalidBundle('attestations must be DSSE bundles with payloadType application/vnd.in-toto+json');
    }
    this.verifier ??= new Verifier(toTrustMaterial(TrustedRoot.fromJSON(this.trustedRootJson())));
    let identity: { subjectAlternativeName?: string; extensions?: { issuer?: string } } | undefined;
    try {
      identity = this.verifier.verify(toSignedEntity(bundle)).identity;
    } catch (err) {
      throw invalidBundle(
        `the bundle does not verify against this server's trusted root: ${(err as Error).message}`,
      );
    }
    const statement = parseBoundedJson(
      bundle.content.dsseEnvelope.payload.toString('utf8'),
      EMBEDDED_JSON,
      'the in-toto statement',
      () => invalidBundle('the DSSE payload is not a JSON in-toto statement'),
    ) as { predicateType?: unknown; subject?: unknown } | null;
    const predicateType = statement?.predicateType;
    if (typeof predicateType !== 'string' || predicateType === '') {
      throw invalidBundle('the in-toto statement has no predicateType');
    }
    const purl = npmPurl(pkg);
    const subjects = Array.isArray(statement?.subject) ? statement.subject : [];
    if (!subjects.some((s) => (s as { name?: unknown })?.name === purl)) {
      throw new ServerError(
        400,
        'SUBJECT_MISMATCH',
        `the attestation's subject does not name ${purl}; attach it to the package version it describes`,
      );
    }
    return {
      predicateType,
      bundle: candidate as Record<string, unknown>,
      signer: {
        subjectAlternativeName: identity?.subjectAlternativeName ?? null,
        issuer: identity?.extensions?.issuer ?? null,
      },
    };
  }
}
