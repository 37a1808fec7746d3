// The certificate authority behind POST /api/v2/signingCert. It binds a short-lived leaf
// certificate to the identity in a verified OIDC token, for a key whose holder proved possession
// by signing the token's email or subject, and issues it as Fulcio does: empty subject, critical
// SAN, digitalSignature, codeSigning, Fulcio issuer and workflow extensions, an embedded SCT.
import {
  createHash,
  createPublicKey,
  type KeyObject,
  randomBytes,
  verify,
  type webcrypto,
} from 'node:crypto';
import { EXTENSION_OID_SCT, X509Certificate as SigstoreCertificate } from '@sigstore/core';
import { isStrictBase64 } from '../encoding';
import { badRequest, ServerError } from '../errors';
import { type Instance, webCryptoKeys } from '../instance';
import type { TrustedIssuers } from '../oidc/trusted-issuers';
import { x509 } from '../x509';
import { type CertificateTransparencyLog, OID_SCT_LIST } from './ct-log';
import { identityExtensions } from './extensions';
import { assertCertificateCarries } from './issued-identity';

export const LEAF_VALIDITY_SECONDS = 600;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' };
const CURVES: Record<string, { webCryptoCurve: string; hash: string }> = {
  prime256v1: { webCryptoCurve: 'P-256', hash: 'sha256' },
  secp384r1: { webCryptoCurve: 'P-384', hash: 'sha384' },
};

export interface SigningCertRequest {
  token: string;
  publicKey: KeyObject;
  curve: { webCryptoCurve: string; hash: string };
  proofOfPossession: Buffer;
}

export function decodeBase64(value: unknown, field: string): Buffer {
  if (!isStrictBase64(value, 64 * 1024)) {
    throw badRequest(`"${field}" must be non-empty standard base64`);
  }
  return Buffer.from(value, 'base64');
}

function objectAt(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`"${field}" must be an object`);
  }
  return value as Record<string, unknown>;
}

/** Validates the Fulcio v2 request body (the form unmodified sigstore clients send). */
export function parseSigningCertRequest(body: unknown): SigningCertRequest {
  const root = objectAt(body, '(body)');
  if (root['certificateSigningRequest'] !== undefined) {
    throw badRequest('certificate signing requests are not supported; send publicKeyRequest');
  }
  const credentials = objectAt(root['credentials'], 'credentials');
  const token = credentials['oidcIdentityToken'];
  if (typeof token !== 'string' || token.length === 0) {
    throw badRequest('"credentials.oidcIdentityToken" must be a non-empty string');
  }
  const request = objectAt(root['publicKeyRequest'], 'publicKeyRequest');
  const publicKeyField = objectAt(request['publicKey'], 'publicKeyRequest.publicKey');
  const algorithm = publicKeyField['algorithm'];
  if (algorithm !== undefined && algorithm !== 'ECDSA') {
    throw new ServerError(
      400,
      'INVALID_PUBLIC_KEY',
      `unsupported key algorithm ${JSON.stringify(algorithm)}; use ECDSA`,
    );
  }
  const content = publicKeyField['content'];
  if (typeof content !== 'string' || content.length > 8192) {
    throw new ServerError(
      400,
      'INVALID_PUBLIC_KEY',
      '"publicKeyRequest.publicKey.content" must be a PEM public key',
    );
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(content);
  } catch {
    throw new ServerError(
      400,
      'INVALID_PUBLIC_KEY',
      '"publicKeyRequest.publicKey.content" is not a PEM public key',
    );
  }
  const curveName =
    publicKey.asymmetricKeyType === 'ec' ? publicKey.asymmetricKeyDetails?.namedCurve : undefined;
  const curve = curveName ? CURVES[curveName] : undefined;
  if (!curve) {
    throw new ServerError(400, 'INVALID_PUBLIC_KEY', 'only ECDSA P-256 and P-384 public keys are supported');
  }
  const proofOfPossession = decodeBase64(request['proofOfPossession'], 'publicKeyRequest.proofOfPossession');
  return { token, publicKey, curve, proofOfPossession };
}

function positiveSerial(): string {
  const bytes = randomBytes(20);
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return bytes.toString('hex');
}

export class CertificateAuthority {
  private signingKeys?: Promise<{ privateKey: webcrypto.CryptoKey }>;

  constructor(
    private readonly instance: Instance,
    private readonly issuers: TrustedIssuers,
    private readonly ctlog: CertificateTransparencyLog,
  ) {}

  /** PEM chain [leaf, intermediate, root] as Fulcio returns it. */
  chainPem(): string[] {
    return [this.instance.intermediate.cert.toString('pem'), this.instance.root.cert.toString('pem')];
  }

  async issue(request: SigningCertRequest): Promise<string[]> {
    const identity = await this.issuers.verify(request.token);
    const possession = verify(
      request.curve.hash,
      Buffer.from(identity.challenge, 'utf8'),
      request.publicKey,
      request.proofOfPossession,
    );
    if (!possession) {
      throw new ServerError(
        400,
        'INVALID_PROOF_OF_POSSESSION',
        `"publicKeyRequest.proofOfPossession" is not a signature by the submitted key over the token's ${identity.san.type === 'email' ? 'email' : 'subject'}`,
      );
    }
    const intermediate = this.instance.intermediate;
    this.signingKeys ??= webCryptoKeys(intermediate.key);
    const { privateKey: signingKey } = await this.signingKeys;
    const publicKey = await x509.PublicKey.create(request.publicKey.export({ format: 'der', type: 'spki' }), {
      name: 'ECDSA',
      namedCurve: request.curve.webCryptoCurve,
    }).then((key) => key.export({ name: 'ECDSA', namedCurve: request.curve.webCryptoCurve }, ['verify']));
    const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
    const params = {
      serialNumber: positiveSerial(),
      subject: '',
      issuer: intermediate.cert.subject,
      notBefore,
      notAfter: new Date(notBefore.getTime() + LEAF_VALIDITY_SECONDS * 1000),
      signingAlgorithm: SIGNING_ALGORITHM,
      publicKey,
      signingKey,
    };
    const extensions: x509.Extension[] = [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(intermediate.cert),
      ...identityExtensions(identity),
    ];
    // The pre-certificate TBS is the final TBS without the SCT extension, which is how
    // verifiers reconstruct it; it is taken from a certificate built with identical fields.
    const pre = await x509.X509CertificateGenerator.create({ ...params, extensions });
    // Checked before the pre-certificate is logged, and the final certificate again below.
    assertCertificateCarries(Buffer.from(pre.rawData), identity);
    const preTbs = SigstoreCertificate.parse(Buffer.from(pre.rawData)).tbsCertificate.toDER();
    const issuerKeyHash = createHash('sha256').update(intermediate.key.spki).digest();
    const sctList = await this.ctlog.submitPrecertificate(issuerKeyHash, preTbs);
    const leaf = await x509.X509CertificateGenerator.create({
      ...params,
      extensions: [...extensions, new x509.Extension(OID_SCT_LIST, false, sctList)],
    });
    assertPrecertificateMatches(Buffer.from(leaf.rawData), preTbs);
    assertCertificateCarries(Buffer.from(leaf.rawData), identity);
    return [leaf.toString('pem'), ...this.chainPem()];
  }
}

// Fail closed if the library ever encoded the final certificate differently from the logged one:
// its SCT would not verify anywhere.
function assertPrecertificateMatches(leafDer: Buffer<ArrayBuffer>, preTbs: Buffer): void {
  const leaf = SigstoreCertificate.parse(leafDer).clone();
  const at = leaf.extensions.findIndex((ext) => ext.subs[0]?.toOID() === EXTENSION_OID_SCT);
  leaf.extensions.splice(at, 1);
  if (at < 0 || !leaf.tbsCertificate.toDER().equals(preTbs)) {
    throw new Error('issued certificate does not match its logged pre-certificate');
  }
}
