// `DbSignCommand`'s implementation, loaded when the command runs (../db-sign.ts declares it).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Configuration, ReportError, StreamReport } from '@yarnpkg/core';
import { snapshotStatement } from '../../../../knownbad';
import { loadTrustRoots, verifyBundle } from '../../../../policy/evidence';
import { describeCause, SigningError } from '../../signing/errors';
import { messageForError, SigningMessage, signingMessage } from '../../signing/messages';
import { signStatement } from '../../signing/sign-file';
import type DbSignCommand from '../db-sign';

export async function execute(this: DbSignCommand) {
  const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
  let usage = false;
  const report = await StreamReport.start(
    { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
    async (report) => {
      try {
        await sign.call(this, configuration, report);
      } catch (err) {
        if (!(err instanceof SigningError)) throw err;
        usage = ['USAGE', 'NO_IDENTITY_TOKEN', 'TARBALL_UNREADABLE', 'TRUSTED_ROOT_UNAVAILABLE'].includes(
          err.code,
        );
        throw new ReportError(messageForError(err.code), err.message);
      }
    },
  );
  return usage ? 2 : report.exitCode();
}

async function sign(this: DbSignCommand, configuration: Configuration, report: StreamReport): Promise<void> {
  const path = resolve(this.context.cwd, this.file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SigningError('TARBALL_UNREADABLE', `${path}: ${describeCause(err)}`, err);
  }
  const statement = snapshotStatement(bytes, basename(path), new Date());
  const { bundle: json, trustedRootJson } = await signStatement(configuration, statement, {
    identityToken: this.identityToken,
    devIdentity: this.devIdentity,
    sigstoreServer: this.sigstoreServer,
    fulcioUrl: this.fulcioUrl,
    rekorUrl: this.rekorUrl,
    trustedRootPath: this.trustedRoot ? resolve(this.context.cwd, this.trustedRoot) : undefined,
  });
  let signer: string;
  try {
    const ctx = loadTrustRoots([{ name: 'signing instance', trustedRootJson }], { embeddedNpmKeys: false });
    const facts = verifyBundle(ctx, json, {
      artifact: {
        type: 'digest',
        algorithm: 'sha512',
        digest: Buffer.from(
          (statement.subject as Array<{ digest: { sha512: string } }>)[0]!.digest.sha512,
          'hex',
        ),
      },
    });
    signer = facts.signer ? `${facts.signer.subject} (issuer ${facts.signer.issuer})` : 'an unknown identity';
  } catch (err) {
    throw new SigningError(
      'SELF_VERIFICATION_FAILED',
      `the new bundle does not verify: ${describeCause(err)}`,
      err,
    );
  }
  const out = resolve(this.context.cwd, this.output ?? `${path}.sigstore.json`);
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  report.reportInfo(
    signingMessage(SigningMessage.SIGNED),
    `Signed the known-bad snapshot ${path} as ${signer}; verified; bundle written to ${out}`,
  );
  report.reportJson({ type: 'tollgate-known-bad-signature', snapshot: path, bundlePath: out, signer });
}
