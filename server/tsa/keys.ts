// The timestamp authority's own certificate chain: a self-signed TSA root and a leaf with critical
// EKU timeStamping (as the public-good TSA's), created once in <data>/keys beside the CA's keys and
// reloaded on every start. Its chain goes into trusted_root.json's timestampAuthorities.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../durable-files';
import { ConfigError } from '../errors';
import { CA_VALIDITY_YEARS, type SigningKey, webCryptoKeys } from '../instance';
import { x509 } from '../x509';

export interface TsaKeys {
  /** when the chain was made: the start of its validity in the trusted root */
  createdAt: Date;
  root: { cert: x509.X509Certificate };
  leaf: { cert: x509.X509Certificate; privateKey: KeyObject };
}

const FILES = {
  rootKey: 'tsa-root.key.pem',
  rootCert: 'tsa-root.crt.pem',
  leafKey: 'tsa-leaf.key.pem',
  leafCert: 'tsa-leaf.crt.pem',
} as const;

function signingKey(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey, spki, keyId: createHash('sha256').update(spki).digest() };
}

const serial = () =>
  randomBytes(16)
    .toString('hex')
    .replace(/^[89a-f]/, '1');

async function create(keysDir: string, label: string): Promise<void> {
  const createdAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  const notAfter = new Date(createdAt);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const rootKey = signingKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const leafKey = signingKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const rootPair = await webCryptoKeys(rootKey);
  const leafPair = await webCryptoKeys(leafKey);
  const algorithm = { name: 'ECDSA', hash: 'SHA-256' };
  const rootName = `O=tollgate.local, CN=tollgate-tsa-root-${label}`;
  const rootCert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: rootName,
    issuer: rootName,
    notBefore: createdAt,
    notAfter,
    signingAlgorithm: algorithm,
    publicKey: rootPair.publicKey,
    signingKey: rootPair.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootPair.publicKey),
    ],
  });
  const leafCert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `O=tollgate.local, CN=tollgate-tsa-${label}`,
    issuer: rootCert.subject,
    notBefore: createdAt,
    notAfter,
    signingAlgorithm: algorithm,
    publicKey: leafPair.publicKey,
    signingKey: rootPair.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.timeStamping], true),
      await x509.SubjectKeyIdentifierExtension.create(leafPair.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootPair.publicKey),
    ],
  });
  const pem = (k: SigningKey) => k.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  // The leaf certificate is written last: its presence marks a complete set.
  writeFileDurably(join(keysDir, FILES.rootKey), pem(rootKey));
  writeFileDurably(join(keysDir, FILES.rootCert), rootCert.toString('pem'));
  writeFileDurably(join(keysDir, FILES.leafKey), pem(leafKey));
  writeFileDurably(join(keysDir, FILES.leafCert), leafCert.toString('pem'));
}

function readPrivate(path: string): string {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    throw new ConfigError(
      `${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
    );
  return readFileSync(path, 'utf8');
}

export async function loadOrCreateTsaKeys(dataDir: string, label: string): Promise<TsaKeys> {
  const keysDir = join(dataDir, 'keys');
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(keysDir, FILES.leafCert))) await create(keysDir, label);
  try {
    const leaf = new x509.X509Certificate(readPrivate(join(keysDir, FILES.leafCert)));
    return {
      createdAt: leaf.notBefore,
      root: { cert: new x509.X509Certificate(readPrivate(join(keysDir, FILES.rootCert))) },
      leaf: { cert: leaf, privateKey: createPrivateKey(readPrivate(join(keysDir, FILES.leafKey))) },
    };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      `the timestamp authority's keys in ${keysDir} cannot be read (${(err as Error).message}): restore them from backup`,
    );
  }
}
