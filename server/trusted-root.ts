// This instance's trusted_root.json in the Sigstore trust-root format, what verifiers load with
// TrustedRoot.fromJSON. It lists the CA chain, the transparency log key and the CT log key; every
// key is valid from the instance's creation, before which nothing was ever signed.
import type { Instance, SigningKey } from './instance';
import type { TsaKeys } from './tsa/keys';

export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

function logInstance(baseUrl: string, key: SigningKey, start: string) {
  return {
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: key.spki.toString('base64'),
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      validFor: { start },
    },
    logId: { keyId: key.keyId.toString('base64') },
  };
}

export function trustedRoot(
  instance: Instance,
  baseUrl: string,
  tsa?: TsaKeys,
  /** the Rekor v2 log's key, listed as a second log on the same origin */
  v2?: { key: SigningKey; createdAt: Date },
): Record<string, unknown> {
  const start = instance.createdAt.toISOString();
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [
      logInstance(baseUrl, instance.tlogKey, start),
      ...(v2 ? [logInstance(baseUrl, v2.key, v2.createdAt.toISOString())] : []),
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'tollgate.local', commonName: `tollgate-intermediate-${instance.treeId}` },
        uri: baseUrl,
        certChain: {
          certificates: [
            { rawBytes: Buffer.from(instance.intermediate.cert.rawData).toString('base64') },
            { rawBytes: Buffer.from(instance.root.cert.rawData).toString('base64') },
          ],
        },
        validFor: { start },
      },
    ],
    ctlogs: [logInstance(`${baseUrl}/ct`, instance.ctlogKey, start)],
    timestampAuthorities: tsa
      ? [
          {
            subject: { organization: 'tollgate.local', commonName: `tollgate-tsa-${instance.treeId}` },
            uri: `${baseUrl}/api/v1/timestamp`,
            certChain: {
              certificates: [
                { rawBytes: Buffer.from(tsa.leaf.cert.rawData).toString('base64') },
                { rawBytes: Buffer.from(tsa.root.cert.rawData).toString('base64') },
              ],
            },
            validFor: { start: tsa.createdAt.toISOString() },
          },
        ]
      : [],
  };
}
