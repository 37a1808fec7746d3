import { Option } from 'clipanion';
import * as t from 'typanion';
import { SIGNED_FILE_KINDS } from '../../../policy/signed-file-kinds';
import { SigningCommand } from '../signing/signing-command';

// `yarn tollgate sign <tarball|name@version>`: keyless-signs an exact package tarball, after the fact.
export default class TollgateSignCommand extends SigningCommand {
  static override paths = [['tollgate', 'sign']];

  static override usage = SigningCommand.Usage({
    category: 'Tollgate commands',
    description: 'keyless-sign a package tarball and attach the bundle to the attestation stores',
    details: `
      Signs the exact bytes of an npm package tarball with Sigstore (a short-lived certificate for your OIDC identity, logged in the transparency log) and writes the bundle to \`<name>-<version>.sigstore.json\`.

      The target is either a \`.tgz\` file or a package spec such as \`name@1.2.3\`, fetched from the registry the project is configured to use for that name (\`npmScopes\`, \`npmRegistryServer\`): an already-published release can be signed after the fact.

      The statement is SLSA provenance when running in GitHub Actions with an identity token of that workflow, and an npm publish attestation otherwise. The identity token comes from \`--identity-token\`, \`--dev-identity\` (a tollgate-server's dev issuer), \`SIGSTORE_ID_TOKEN\`, or the GitHub Actions token endpoint, in that order.

      With \`--as policy\` or \`--as plugin-release\` the target is any file — a base policy other repositories \`extends\`, a release of the Tollgate plugin — signed as such (an in-toto statement over its sha512 whose predicate type names what it is for, so neither is ever taken for the other or for a package); the bundle goes to \`<file>.sigstore.json\` and is not attached to attestation stores.

      Before anything is written the new bundle is verified against the trusted root of the instance (\`--trusted-root\`, the \`--sigstore-server\`'s \`/trusted_root.json\`, or the embedded public-good root). It is then attached to every store of \`tollgateAttestationStores\` (or \`--attach\`), unless \`--no-attach\`.
    `,
    examples: [
      ['Sign a tarball in GitHub Actions (public Sigstore)', 'yarn tollgate sign ./acme-ui-1.2.0.tgz'],
      ['Sign an already-published release', 'yarn tollgate sign @acme/ui@1.2.0'],
      [
        'Sign against a local tollgate-server as a test identity',
        'yarn tollgate sign ./acme-ui-1.2.0.tgz --sigstore-server http://127.0.0.1:8080 --dev-identity dev@acme.example',
      ],
    ],
  });

  target = Option.String({ name: 'tarball|package-spec|file' });

  as = Option.String('--as', 'package', {
    description: 'What the target is: package (a tarball or spec), policy (a base policy), plugin-release',
    validator: t.isEnum(['package', ...SIGNED_FILE_KINDS]),
  });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/sign');
    return execute.call(this);
  }
}
