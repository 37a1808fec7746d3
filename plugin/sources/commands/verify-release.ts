import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

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

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/verify-release');
    return execute.call(this);
  }
}
