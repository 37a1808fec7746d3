// The persistent identity of one server instance: CA root and intermediate, transparency-log
// key, CT-log key and dev-issuer key, created once in <data>/keys and reloaded on every start.
// Private keys are written 0600 inside a 0700 folder, and a keys folder that others can read is
// refused rather than used, because whoever reads it can mint trusted certificates.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  webcrypto,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './errors';
import { x509 } from './x509';

export const CA_VALIDITY_YEARS = 10;

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
  /** SHA-256 of the SPKI: Rekor's log ID, the CT log ID, the checkpoint key hint source. */
  keyId: Buffer;
}

export interface Instance {
  /** When the instance was created: the start of validity of every key in the trusted root. */
  createdAt: Date;
  /** A stable number naming this log in checkpoint origins, like Rekor's tree ID. */
  treeId: string;
  root: { key: SigningKey; cert: x509.X509Certificate };
  intermediate: { key: SigningKey; cert: x509.X509Certificate };
  tlogKey: SigningKey;
  ctlogKey: SigningKey;
  oidcKey: SigningKey;
}

function toSigningKey(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey, spki, keyId: createHash('sha256').update(spki).digest() };
}

function newKey(): SigningKey {
  return toSigningKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
}

export async function webCryptoKeys(key: SigningKey): Promise<webcrypto.CryptoKeyPair> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  const pkcs8 = key.privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', key.spki, algorithm, true, ['verify']),
  };
}

const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' };

async function createCA(createdAt: Date, treeId: string) {
  const rootKey = newKey();
  const intermediateKey = newKey();
  const notAfter = new Date(createdAt);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const rootPair = await webCryptoKeys(rootKey);
  const intermediatePair = await webCryptoKeys(intermediateKey);
  const rootName = `O=tollgate.local, CN=tollgate-root-${treeId}`;
  const rootCert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    subject: rootName,
    issuer: rootName,
    notBefore: createdAt,
    notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: rootPair.publicKey,
    signingKey: rootPair.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootPair.publicKey),
    ],
  });
  const intermediateCert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    subject: `O=tollgate.local, CN=tollgate-intermediate-${treeId}`,
    issuer: rootCert.subject,
    notBefore: createdAt,
    notAfter,
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: intermediatePair.publicKey,
    signingKey: rootPair.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
      await x509.SubjectKeyIdentifierExtension.create(intermediatePair.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootPair.publicKey),
    ],
  });
  return { rootKey, rootCert, intermediateKey, intermediateCert };
}

const FILES = {
  rootKey: 'ca-root.key.pem',
  rootCert: 'ca-root.crt.pem',
  intermediateKey: 'ca-intermediate.key.pem',
  intermediateCert: 'ca-intermediate.crt.pem',
  tlogKey: 'tlog.key.pem',
  ctlogKey: 'ctlog.key.pem',
  oidcKey: 'oidc-dev-issuer.key.pem',
  instance: 'instance.json',
} as const;

function pemKey(key: SigningKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

async function createInstanceFiles(keysDir: string): Promise<void> {
  const createdAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  const treeId = BigInt(`0x${randomBytes(8).toString('hex')}`)
    .toString()
    .slice(0, 18);
  const ca = await createCA(createdAt, treeId);
  // Written to a private scratch folder and renamed into place, so a crash never leaves a
  // half-created instance that a restart would mistake for a complete one.
  const scratch = `${keysDir}.creating-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { mode: 0o700 });
  const write = (name: string, content: string) =>
    writeFileSync(join(scratch, name), content, { mode: 0o600 });
  write(FILES.rootKey, pemKey(ca.rootKey));
  write(FILES.rootCert, ca.rootCert.toString('pem'));
  write(FILES.intermediateKey, pemKey(ca.intermediateKey));
  write(FILES.intermediateCert, ca.intermediateCert.toString('pem'));
  write(FILES.tlogKey, pemKey(newKey()));
  write(FILES.ctlogKey, pemKey(newKey()));
  write(FILES.oidcKey, pemKey(newKey()));
  write(FILES.instance, `${JSON.stringify({ createdAt: createdAt.toISOString(), treeId }, null, 2)}\n`);
  renameSync(scratch, keysDir);
}

function readPrivate(keysDir: string, name: string): string {
  const path = join(keysDir, name);
  if (!existsSync(path))
    throw new ConfigError(
      `${path} is missing: the data folder is incomplete; restore it from backup or start with an empty --data folder`,
    );
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    throw new ConfigError(
      `${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
    );
  }
  return readFileSync(path, 'utf8');
}

export async function loadOrCreateInstance(dataDir: string): Promise<Instance> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const keysDir = join(dataDir, 'keys');
  if (!existsSync(keysDir)) await createInstanceFiles(keysDir);
  const dirMode = statSync(keysDir).mode & 0o777;
  if (dirMode & 0o077) {
    throw new ConfigError(
      `${keysDir} is accessible to other users (mode ${dirMode.toString(8)}); run: chmod 700 ${keysDir}`,
    );
  }
  const key = (name: string) => toSigningKey(createPrivateKey(readPrivate(keysDir, name)));
  let meta: { createdAt: string; treeId: string };
  try {
    meta = JSON.parse(readPrivate(keysDir, FILES.instance));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${join(keysDir, FILES.instance)} is not valid JSON: restore it from backup`);
  }
  const createdAt = new Date(meta.createdAt);
  if (Number.isNaN(createdAt.getTime()) || !/^\d+$/.test(meta.treeId ?? '')) {
    throw new ConfigError(
      `${join(keysDir, FILES.instance)} lacks a valid createdAt or treeId: restore it from backup`,
    );
  }
  return {
    createdAt,
    treeId: meta.treeId,
    root: { key: key(FILES.rootKey), cert: new x509.X509Certificate(readPrivate(keysDir, FILES.rootCert)) },
    intermediate: {
      key: key(FILES.intermediateKey),
      cert: new x509.X509Certificate(readPrivate(keysDir, FILES.intermediateCert)),
    },
    tlogKey: key(FILES.tlogKey),
    ctlogKey: key(FILES.ctlogKey),
    oidcKey: key(FILES.oidcKey),
  };
}
