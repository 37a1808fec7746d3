import { Option } from 'clipanion';
import { SigningCommand } from '../signing/signing-command';

// `yarn tollgate publish`: `yarn npm publish` with a keyless signature over the exact tarball it uploads.
// Signing (and verifying the result) happens before the upload, and any failure stops the publish.
export default class TollgatePublishCommand extends SigningCommand {
  static override paths = [['tollgate', 'publish']];

  static override usage = SigningCommand.Usage({
    category: 'Tollgate commands',
    description: 'pack, sign, publish and attach the active workspace',
    details: `
      Packs the active workspace exactly as \`yarn npm publish\` does (same lifecycle scripts, file list and archive), signs the exact tarball bytes like \`yarn tollgate sign\`, verifies the bundle, and only then publishes to the workspace's publish registry (\`publishConfig.registry\`, \`npmPublishRegistry\`, \`npmScopes\`). The bundle is written to \`<name>-<version>.sigstore.json\` and attached to the attestation stores (\`tollgateAttestationStores\` or \`--attach\`).

      If the identity token, the certificate authority, the transparency log or the verification fails, nothing is published.

      With \`--dry-run\` it packs the workspace the same way (its prepublish and pack lifecycle scripts run) and shows what would be signed and published — name@version, the tarball's sha512 and size, the statement kind, the identity the certificate would carry (a given token is decoded, not sent; no token is minted or requested), the certificate authority and log, the registry and tag, the attestation stores and the bundle file — and does none of it: no token fetched, no certificate, no log entry, no upload, no attachment, no file written.
    `,
    examples: [
      ['Publish from GitHub Actions with SLSA provenance', 'yarn tollgate publish'],
      ['See what would be signed and published, doing neither', 'yarn tollgate publish --dry-run'],
      [
        'Publish to a test registry, signed by a local tollgate-server',
        'yarn tollgate publish --sigstore-server http://127.0.0.1:8080 --dev-identity release@acme.example',
      ],
    ],
  });

  access = Option.String('--access', {
    description: 'The access for the published package (public or restricted)',
  });

  tag = Option.String('--tag', 'latest', {
    description: 'The tag on the registry that the package should be attached to',
  });

  otp = Option.String('--otp', { description: 'The OTP token to use with the command' });

  dryRun = Option.Boolean('--dry-run', false, {
    description: 'Show what would be signed and published; sign, log, publish and attach nothing',
  });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/publish');
    return execute.call(this);
  }
}
