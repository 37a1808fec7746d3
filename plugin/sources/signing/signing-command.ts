import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

export abstract class SigningCommand extends BaseCommand {
  identityToken = Option.String('--identity-token', {
    description: 'OIDC identity token (JWT, audience "sigstore") to sign with',
  });
  devIdentity = Option.String('--dev-identity', {
    description: 'Email to sign as, minted by the dev issuer of the --sigstore-server (local testing only)',
  });
  sigstoreServer = Option.String('--sigstore-server', {
    description: 'A tollgate-server URL: its CA, log, dev issuer and trusted root',
  });
  fulcioUrl = Option.String('--fulcio-url', { description: 'Certificate authority URL (Fulcio API)' });
  rekorUrl = Option.String('--rekor-url', { description: 'Transparency log URL (Rekor API)' });
  trustedRoot = Option.String('--trusted-root', {
    description: 'trusted_root.json to verify the new bundle against',
  });
  provenance = Option.Boolean('--provenance', {
    description: 'Require SLSA provenance (--no-provenance: always a publish attestation)',
  });
  output = Option.String('-o,--output', {
    description: 'Bundle file (default <name>-<version>.sigstore.json)',
  });
  attach = Option.Array('--attach', {
    description: 'Attestation store URL to attach to, instead of tollgateAttestationStores (repeatable)',
  });
  noAttach = Option.Boolean('--no-attach', false, { description: 'Do not attach the bundle to any store' });
  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });
}
