import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

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

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/db-sign');
    return execute.call(this);
  }
}
