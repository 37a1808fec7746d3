import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BaseCommand } from '@yarnpkg/cli';
import { Configuration, ReportError, StreamReport } from '@yarnpkg/core';
import { Option } from 'clipanion';
import { embeddedPublicGoodTrustedRoot } from '../../../policy/evidence';
import { describeCause, SigningError } from '../signing/errors';
import { yarnJsonHttp } from '../signing/http';
import { messageForError, SigningMessage, signingMessage } from '../signing/messages';
import { readTrustedRoot } from '../signing/sigstore-instance';
import { verifyPluginRelease } from '../signing/verify-release';

// `yarn tollgate verify-release <file>`: is this plugin bundle a release signed by who it should be?
export default class VerifyReleaseCommand extends BaseCommand {
  static override paths = [['tollgate', 'verify-release']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'verify the Sigstore signature of a Tollgate plugin release before importing it',
    details: `
      Checks a plugin bundle built by \`npm run release\` against its Sigstore bundle (\`<file>.sigstore.json\`, written by \`yarn tollgate sign --as plugin-release\`): the signature and certificate chain to the trusted root, the transparency-log inclusion, the signed statement names these very bytes (sha512) as a plugin release (never a package or a policy), and the certificate's identity is exactly the \`--issuer\` and \`--identity\` given (or matches the anchored \`--identity-glob\`).

      The trusted root is the public-good one embedded in this plugin unless \`--trusted-root <file>\` or \`--sigstore-server <url>\` (a tollgate-server's \`/trusted_root.json\`) names another.

      It prints the sha512, which is the \`checksum\` \`yarn plugin import\` records in .yarnrc.yml for that file.

      Exit codes: 0 verified, 1 the signature does not verify or is by someone else, 2 bad arguments or unreadable files.
    `,
    examples: [
      [
        'Verify a release built by the repository workflow (public Sigstore)',
        'yarn tollgate verify-release plugin-tollgate-0.1.0.js --issuer https://token.actions.githubusercontent.com --identity-glob "https://github.com/tollgate-dev/tollgate/.github/workflows/release.yml@refs/tags/v*"',
      ],
      [
        'Verify against a local tollgate-server',
        'yarn tollgate verify-release plugin-tollgate-0.1.0.js --sigstore-server http://127.0.0.1:8080 --issuer http://127.0.0.1:8080/oidc --identity release@acme.example',
      ],
    ],
  });

  file = Option.String({ name: 'plugin-file' });
  bundle = Option.String('--bundle', { description: 'The Sigstore bundle (default <file>.sigstore.json)' });
  issuer = Option.String('--issuer', { description: 'The OIDC issuer the signer must come from (exact)' });
  identity = Option.String('--identity', {
    description: 'The signer identity: an email or workflow URL (exact)',
  });
  identityGlob = Option.String('--identity-glob', {
    description: 'The signer identity as an anchored glob (`*` stops at `/`, `**` does not)',
  });
  trustedRoot = Option.String('--trusted-root', { description: 'trusted_root.json to verify against' });
  sigstoreServer = Option.String('--sigstore-server', {
    description: 'A tollgate-server URL whose /trusted_root.json to verify against',
  });
  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute() {
    const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
    let usage = false;
    let denied = false;
    const report = await StreamReport.start(
      { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
      async (report) => {
        try {
          const outcome = await this.verify(configuration);
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

  private async verify(configuration: Configuration) {
    if (!this.issuer)
      throw new SigningError('USAGE', 'give --issuer <url>: the OIDC issuer the release must be signed by');
    if ((this.identity === undefined) === (this.identityGlob === undefined))
      throw new SigningError('USAGE', 'give exactly one of --identity <subject> and --identity-glob <glob>');
    if (this.trustedRoot && this.sigstoreServer)
      throw new SigningError(
        'USAGE',
        'give either --trusted-root <file> or --sigstore-server <url>, not both',
      );
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
