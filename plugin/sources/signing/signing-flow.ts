// The signing flow `yarn tollgate sign` and `yarn tollgate publish` share: token → statement →
// keyless signature → independent verification → bundle file → attestation stores. Loaded when one
// of them runs (signing-command.ts declares their shared options).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Configuration, ReportError, StreamReport } from '@yarnpkg/core';
import type { BundleFacts } from '../../../policy/evidence';
import { readSettings } from '../settings';
import { type AttachResult, attachBundle, defaultBundleFileName } from './attach';
import { SigningError, type SigningErrorCode } from './errors';
import { type JsonHttp, yarnJsonHttp } from './http';
import { resolveIdentityToken } from './identity-token';
import { messageForError, SigningMessage, signingMessage } from './messages';
import { chooseStatement, type SignedPackage, signPackage, verifySignedPackage } from './sign-package';
import type { SigningCommand } from './signing-command';
import { readTrustedRoot, resolveInstance, type TrustedRootSource } from './sigstore-instance';

/** Failures of the input, not of signing: the command line, a token source, the tarball, the trusted root. */
const USAGE_ERRORS = new Set<SigningErrorCode>([
  'USAGE',
  'NO_IDENTITY_TOKEN',
  'TARBALL_UNREADABLE',
  'TRUSTED_ROOT_UNAVAILABLE',
]);

export interface PackageToSign {
  name: string;
  version: string;
  tarball: Buffer;
  /** where the bytes came from (file path, tarball URL, workspace) */
  origin: string;
  /** the registry a publish attestation names */
  registry: string;
}

export interface SigningOutcome {
  signed: SignedPackage;
  /** null when no trusted root was known and the check was skipped */
  facts: BundleFacts | null;
  bundlePath: string;
}

function describeRoot(source: TrustedRootSource): string {
  switch (source.kind) {
    case 'file':
      return source.path;
    case 'server':
      return source.url;
    case 'public-good':
      return 'the public-good trusted root shipped with @sigstore/tuf';
    case 'unknown':
      return 'nothing';
  }
}

/** Runs the command body, turning signing failures into one clean report line each. */
export async function withReport(
  this: SigningCommand,
  configuration: Configuration,
  body: (report: StreamReport) => Promise<void>,
): Promise<number> {
  let usage = false;
  const report = await StreamReport.start(
    { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
    async (report) => {
      try {
        await body(report);
      } catch (err) {
        if (err instanceof SigningError) {
          usage = USAGE_ERRORS.has(err.code);
          throw new ReportError(messageForError(err.code), err.message);
        }
        throw err;
      }
    },
  );
  // The documented contract: 2 for what the person must fix in the command or configuration, 1 when
  // signing, verifying, attaching or publishing itself failed.
  return usage ? 2 : report.exitCode();
}

export function attachStores(this: SigningCommand, configuration: Configuration): string[] {
  if (this.noAttach && this.attach?.length) {
    throw new SigningError('USAGE', 'give either --attach <url> or --no-attach, not both');
  }
  if (this.noAttach) return [];
  return this.attach?.length ? this.attach : readSettings(configuration).attestationStores;
}

/** Signs and verifies the exact tarball and writes the bundle file. Throws SigningError. */
export async function signAndWrite(
  this: SigningCommand,
  report: StreamReport,
  configuration: Configuration,
  pkg: PackageToSign,
): Promise<SigningOutcome> {
  const settings = readSettings(configuration);
  const http = yarnJsonHttp(configuration);
  const instance = resolveInstance({
    settings,
    fulcioUrl: this.fulcioUrl,
    rekorUrl: this.rekorUrl,
    sigstoreServer: this.sigstoreServer,
    trustedRootPath: this.trustedRoot ? resolve(this.context.cwd, this.trustedRoot) : undefined,
  });
  const identity = await resolveIdentityToken({
    identityToken: this.identityToken,
    devIdentity: this.devIdentity,
    devIssuerServer: instance.devIssuerServer,
    env: process.env,
    http,
  });
  const choice = chooseStatement(process.env, identity, this.provenance);
  // Read before signing: a root that cannot be read should stop us before a log entry exists.
  const trustedRootJson = await readTrustedRoot(instance.trustedRoot, http);
  report.reportInfo(
    signingMessage(SigningMessage.SIGNING),
    `Signing ${pkg.name}@${pkg.version} from ${pkg.origin}: ${choice.note}; identity token from ${identity.source}; certificate authority ${instance.fulcioURL}, log ${instance.rekorURL}`,
  );
  // A failure is rethrown outside the timer: inside it, Yarn would also print the stack.
  const attempt = await report.startTimerPromise('Signing', () =>
    signPackage({ ...pkg, choice, identity, instance }).then(
      (signed) => ({ signed }),
      (error: unknown) => ({ error }),
    ),
  );
  if ('error' in attempt) throw attempt.error;
  const { signed } = attempt;
  let facts: BundleFacts | null = null;
  if (trustedRootJson === null) {
    const why = instance.trustedRoot.kind === 'unknown' ? instance.trustedRoot.why : '';
    report.reportWarning(signingMessage(SigningMessage.SKIPPED), `The new bundle was not verified: ${why}`);
  } else {
    facts = verifySignedPackage(signed, trustedRootJson);
  }
  const bundlePath = resolve(this.context.cwd, this.output ?? defaultBundleFileName(pkg.name, pkg.version));
  writeFileSync(bundlePath, `${JSON.stringify(signed.bundle, null, 2)}\n`);
  const who = facts?.signer
    ? `${facts.signer.subject} (issuer ${facts.signer.issuer})`
    : 'an unverified identity';
  const logged = facts?.logIndex !== undefined ? `, transparency log index ${facts.logIndex}` : '';
  report.reportInfo(
    signingMessage(SigningMessage.SIGNED),
    `Signed ${pkg.name}@${pkg.version} (${signed.subject.integrity}) as ${who}${logged}; ${facts ? `verified against ${describeRoot(instance.trustedRoot)}` : 'NOT verified'}; bundle written to ${bundlePath}`,
  );
  return { signed, facts, bundlePath };
}

/** Attaches the bundle to every store; each refusal is reported, and any refusal fails the command. */
export async function attachToStores(
  this: SigningCommand,
  report: StreamReport,
  configuration: Configuration,
  stores: string[],
  pkg: { name: string; version: string },
  outcome: SigningOutcome,
): Promise<AttachResult[]> {
  const http: JsonHttp = yarnJsonHttp(configuration);
  const token = readSettings(configuration).attestationStoreToken;
  if (stores.length === 0) {
    report.reportWarning(
      signingMessage(SigningMessage.SKIPPED),
      `Not attached to any attestation store (${this.noAttach ? '--no-attach' : 'tollgateAttestationStores is empty'}): installs will not find the bundle until it is attached`,
    );
    return [];
  }
  const attached: AttachResult[] = [];
  const failures: SigningError[] = [];
  for (const store of stores) {
    try {
      const result = await attachBundle(http, store, pkg, outcome.signed.bundle, token);
      attached.push(result);
      report.reportInfo(signingMessage(SigningMessage.ATTACHED), `Attached to ${result.url}`);
    } catch (err) {
      if (!(err instanceof SigningError)) throw err;
      failures.push(err);
      report.reportError(messageForError(err.code), err.message);
    }
  }
  if (failures.length > 0) {
    report.reportInfo(
      signingMessage(SigningMessage.SKIPPED),
      `The bundle is kept in ${outcome.bundlePath}; once the store can take it: curl -X PUT -H 'content-type: application/json' --data-binary @${outcome.bundlePath} <the URL above>`,
    );
  }
  return attached;
}

export function signatureJson(
  pkg: PackageToSign,
  outcome: SigningOutcome,
  attached: AttachResult[],
): Record<string, unknown> {
  const { signed, facts } = outcome;
  return {
    type: 'tollgate-signature',
    name: pkg.name,
    version: pkg.version,
    integrity: signed.subject.integrity,
    kind: signed.kind,
    predicateType: signed.statement.predicateType,
    origin: pkg.origin,
    verified: facts !== null,
    signer: facts?.signer ? { subject: facts.signer.subject, issuer: facts.signer.issuer } : null,
    logIndex: facts?.logIndex ?? null,
    logId: facts?.logId ?? null,
    integratedTime: facts?.integratedTime ?? null,
    bundlePath: outcome.bundlePath,
    attachedTo: attached.map((a) => a.url),
  };
}
