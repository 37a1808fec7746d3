// `VerifyReleaseCommand`'s implementation, loaded when the command runs (../verify-release.ts declares it).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Configuration, ReportError, StreamReport } from '@yarnpkg/core';
import { embeddedPublicGoodTrustedRoot } from '../../../../policy/evidence';
import { describeCause, SigningError } from '../../signing/errors';
import { yarnJsonHttp } from '../../signing/http';
import { messageForError, SigningMessage, signingMessage } from '../../signing/messages';
import { readTrustedRoot } from '../../signing/sigstore-instance';
import { verifyPluginRelease } from '../../signing/verify-release';
import type VerifyReleaseCommand from '../verify-release';

export async function execute(this: VerifyReleaseCommand) {
  const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
  let usage = false;
  let denied = false;
  const report = await StreamReport.start(
    { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
    async (report) => {
      try {
        const outcome = await verify.call(this, configuration);
        if (!outcome.ok) {
          denied = true;
          report.reportError(
            signingMessage(SigningMessage.SIGNING_ERROR),
            `${outcome.file} is not accepted: ${outcome.message} (expected: issuer ${this.issuer}, identity ${this.identity ?? `glob ${this.identityGlob}`}, trusted root ${outcome.trustRoot})`,
          );
          report.reportJson({ type: 'tollgate-release-verification', ...outcome });
          return;
        }
        const when = outcome.signedTime
          ? `, signed ${new Date(outcome.signedTime * 1000).toISOString()}`
          : '';
        report.reportInfo(
          signingMessage(SigningMessage.VERIFIED),
          `✓ ${outcome.file} is a Tollgate plugin release signed by ${outcome.signer.subject} (issuer ${outcome.signer.issuer})${outcome.repository ? ` in ${outcome.repository}` : ''}${outcome.commit ? ` at commit ${outcome.commit}` : ''}${outcome.logIndex !== undefined ? `, transparency log index ${outcome.logIndex}` : ''}${when}; trusted root ${outcome.trustRoot}`,
        );
        report.reportInfo(
          signingMessage(SigningMessage.VERIFIED),
          `sha512 ${outcome.sha512} (the checksum \`yarn plugin import\` records in .yarnrc.yml)`,
        );
        report.reportJson({ type: 'tollgate-release-verification', ...outcome });
      } catch (err) {
        if (err instanceof SigningError) {
          usage = true;
          throw new ReportError(messageForError(err.code), err.message);
        }
        throw err;
      }
    },
  );
  if (usage) return 2;
  if (denied) return 1;
  return report.exitCode();
}

async function verify(this: VerifyReleaseCommand, configuration: Configuration) {
  if (!this.issuer)
    throw new SigningError('USAGE', 'give --issuer <url>: the OIDC issuer the release must be signed by');
  if ((this.identity === undefined) === (this.identityGlob === undefined))
    throw new SigningError('USAGE', 'give exactly one of --identity <subject> and --identity-glob <glob>');
  if (this.trustedRoot && this.sigstoreServer)
    throw new SigningError('USAGE', 'give either --trusted-root <file> or --sigstore-server <url>, not both');
  const file = resolve(this.context.cwd, this.file);
  const bundlePath = resolve(this.context.cwd, this.bundle ?? `${this.file}.sigstore.json`);
  const bytes = readInput(file, 'the plugin file');
  const bundleJson = readInput(
    bundlePath,
    'its Sigstore bundle',
    this.bundle ? undefined : 'pass --bundle <file> if it lives elsewhere',
  ).toString('utf8');
  let trustedRootJson: string;
  let trustRoot: string;
  if (this.trustedRoot) {
    trustRoot = resolve(this.context.cwd, this.trustedRoot);
    trustedRootJson = (await readTrustedRoot(
      { kind: 'file', path: trustRoot },
      yarnJsonHttp(configuration),
    ))!;
  } else if (this.sigstoreServer) {
    trustRoot = `${this.sigstoreServer.replace(/\/+$/, '')}/trusted_root.json`;
    trustedRootJson = (await readTrustedRoot(
      { kind: 'server', url: trustRoot },
      yarnJsonHttp(configuration),
    ))!;
  } else {
    trustRoot = 'public-good';
    trustedRootJson = embeddedPublicGoodTrustedRoot();
  }
  const result = verifyPluginRelease(bytes, bundleJson, {
    issuer: this.issuer,
    subject: this.identity !== undefined ? { exact: this.identity } : { glob: this.identityGlob! },
    trustedRootJson,
    trustRootName: trustRoot,
  });
  return { file, bundle: bundlePath, trustRoot, ...result };
}

function readInput(path: string, what: string, hint?: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SigningError(
      'TARBALL_UNREADABLE',
      `${what} ${path}: ${describeCause(err)}${hint ? `; ${hint}` : ''}`,
      err,
    );
  }
}
