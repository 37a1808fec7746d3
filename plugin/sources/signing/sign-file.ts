// Keyless signing of a file that is not a package — a base policy, a release of the plugin — with the
// unmodified sigstore client: an in-toto statement over the file's sha512 whose predicate type names
// what the file is for (policy/signed-file.ts), then an independent check with Tollgate's verifier.
import { basename } from 'node:path';
import type { Configuration } from '@yarnpkg/core';
import { loadTrustRoots } from '../../../policy/evidence';
import {
  type SignedFileKind,
  sha512Hex,
  signedFileStatement,
  verifySignedFile,
} from '../../../policy/signed-file';
import { readSettings } from '../settings';
import { describeCause, SigningError } from './errors';
import { yarnJsonHttp } from './http';
import { resolveIdentityToken } from './identity-token';
import { readTrustedRoot, resolveInstance } from './sigstore-instance';
import { IN_TOTO_PAYLOAD_TYPE } from './statement';

export interface FileSigningOptions {
  identityToken?: string;
  devIdentity?: string;
  sigstoreServer?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  trustedRootPath?: string;
}

export interface SignedFile {
  bundle: unknown;
  sha512: string;
  signer: { subject: string; issuer: string };
  logIndex?: number;
  fulcioURL: string;
  rekorURL: string;
}

export interface SignedStatement {
  /** the bundle, as JSON (plain objects) */
  bundle: Record<string, unknown>;
  /** the instance's trusted root, read before signing, to verify the bundle against */
  trustedRootJson: string;
  fulcioURL: string;
  rekorURL: string;
}

/**
 * Keyless-signs an in-toto `statement` with the unmodified sigstore client: the identity token, the
 * instance and its trusted root resolved as every signing command does. The caller verifies the bundle.
 */
export async function signStatement(
  configuration: Configuration,
  statement: Record<string, unknown>,
  options: FileSigningOptions,
): Promise<SignedStatement> {
  const http = yarnJsonHttp(configuration);
  const instance = resolveInstance({ settings: readSettings(configuration), ...options });
  const identity = await resolveIdentityToken({
    identityToken: options.identityToken,
    devIdentity: options.devIdentity,
    devIssuerServer: instance.devIssuerServer,
    env: process.env,
    http,
  });
  // Read before signing: a root that cannot be read should stop us before a log entry exists.
  const trustedRootJson = await readTrustedRoot(instance.trustedRoot, http);
  if (trustedRootJson === null)
    throw new SigningError(
      'TRUSTED_ROOT_UNAVAILABLE',
      'no trusted root to check the new bundle against: pass --trusted-root <file> or --sigstore-server <url>',
    );
  const { attest } = await import('sigstore');
  let bundle: unknown;
  try {
    bundle = await attest(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE, {
      fulcioURL: instance.fulcioURL,
      rekorURL: instance.rekorURL,
      identityToken: identity.token,
      tlogUpload: true,
      retry: 1,
    });
  } catch (err) {
    throw new SigningError(
      'SIGNING_FAILED',
      `signing with ${instance.fulcioURL} and ${instance.rekorURL} failed: ${describeCause(err)}`,
      err,
    );
  }
  return {
    bundle: JSON.parse(JSON.stringify(bundle)),
    trustedRootJson,
    fulcioURL: instance.fulcioURL,
    rekorURL: instance.rekorURL,
  };
}

/** Signs `bytes` as a `kind` file and verifies the bundle against the instance's trusted root. */
export async function signFile(
  configuration: Configuration,
  bytes: Buffer,
  path: string,
  kind: SignedFileKind,
  predicate: Record<string, unknown>,
  options: FileSigningOptions,
): Promise<SignedFile> {
  const statement = signedFileStatement(bytes, basename(path), kind, predicate);
  const signed = await signStatement(configuration, statement as unknown as Record<string, unknown>, options);
  const verified = verifySignedFile(
    loadTrustRoots([{ name: 'signing instance', trustedRootJson: signed.trustedRootJson }], {
      embeddedNpmKeys: false,
    }),
    bytes,
    JSON.stringify(signed.bundle),
    { kind, trust: ['signing instance'] },
  );
  if (!verified.ok)
    throw new SigningError('SELF_VERIFICATION_FAILED', `the new bundle does not verify: ${verified.message}`);
  return {
    bundle: signed.bundle,
    sha512: sha512Hex(bytes),
    signer: verified.signer,
    ...(verified.facts.logIndex !== undefined ? { logIndex: verified.facts.logIndex } : {}),
    fulcioURL: signed.fulcioURL,
    rekorURL: signed.rekorURL,
  };
}
