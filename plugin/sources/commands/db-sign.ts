import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { BaseCommand } from '@yarnpkg/cli';
import { Configuration, ReportError, StreamReport } from '@yarnpkg/core';
import { Option } from 'clipanion';
import { snapshotStatement } from '../../../knownbad';
import { loadTrustRoots, verifyBundle } from '../../../policy/evidence';
import { describeCause, SigningError } from '../signing/errors';
import { messageForError, SigningMessage, signingMessage } from '../signing/messages';
import { signStatement } from '../signing/sign-file';

// `yarn tollgate db sign <snapshot>`: keyless-signs a known-bad snapshot, as `sign` signs a tarball.
export default class DbSignCommand extends BaseCommand {
  static override paths = [['tollgate', 'db', 'sign']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'keyless-sign a known-bad snapshot (a zip of OSV records and known-bad.yml lists)',
    details: `
      Signs the exact bytes of a snapshot file with Sigstore, as \`yarn tollgate sign\` signs a tarball: an in-toto statement whose subject is the file's sha512 and whose predicate type says "known-bad snapshot", signed with a short-lived certificate for your OIDC identity and logged. The bundle is verified against the instance's trusted root and written to \`<file>.sigstore.json\`; consumers import it with \`yarn tollgate db update --from <file or URL>\`, which verifies it against their policy's \`knownBad.sources\`.

      The identity token comes from \`--identity-token\`, \`--dev-identity\` (a tollgate-server's dev issuer), \`SIGSTORE_ID_TOKEN\`, or the GitHub Actions token endpoint.

      Exit codes: 0 signed, 1 signing or verifying failed, 2 bad arguments or no identity token source.
    `,
    examples: [
      ['Sign in CI (public Sigstore)', 'yarn tollgate db sign ./acme-known-bad.zip'],
      [
        'Sign against a local tollgate-server',
        'yarn tollgate db sign ./acme-known-bad.zip --sigstore-server http://127.0.0.1:8080 --dev-identity security@acme.example',
      ],
    ],
  });

  file = Option.String({ name: 'snapshot' });
  identityToken = Option.String('--identity-token', { description: 'OIDC identity token to sign with' });
  devIdentity = Option.String('--dev-identity', {
    description: 'Email minted by the --sigstore-server dev issuer',
  });
  sigstoreServer = Option.String('--sigstore-server', {
    description: 'A tollgate-server URL: CA, log, dev issuer, trusted root',
  });
  fulcioUrl = Option.String('--fulcio-url', { description: 'Certificate authority URL (Fulcio API)' });
  rekorUrl = Option.String('--rekor-url', { description: 'Transparency log URL (Rekor API)' });
  trustedRoot = Option.String('--trusted-root', {
    description: 'trusted_root.json to verify the new bundle against',
  });
  output = Option.String('-o,--output', { description: 'Bundle file (default <snapshot>.sigstore.json)' });
  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute() {
    const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
    let usage = false;
    const report = await StreamReport.start(
      { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
      async (report) => {
        try {
          await this.sign(configuration, report);
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

  private async sign(configuration: Configuration, report: StreamReport): Promise<void> {
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
      signer = facts.signer
        ? `${facts.signer.subject} (issuer ${facts.signer.issuer})`
        : 'an unknown identity';
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
}
