import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Configuration, structUtils } from '@yarnpkg/core';
import { npmConfigUtils } from '@yarnpkg/plugin-npm';
import { Option } from 'clipanion';
import * as t from 'typanion';
import { SIGNED_FILE_KINDS, type SignedFileKind } from '../../../policy';
import { readSettings } from '../settings';
import { describeCause, SigningError } from '../signing/errors';
import { fetchPublishedTarball, tarballIdentity } from '../signing/fetch-package';
import { SigningMessage, signingMessage } from '../signing/messages';
import { signFile } from '../signing/sign-file';
import { type PackageToSign, SigningCommand, signatureJson } from '../signing/signing-command';

// A path (something with a directory part or a tarball extension) names a file; anything else is a
// package spec resolved on the registry the project uses for that name.
function looksLikePath(target: string): boolean {
  return /^(\.{1,2}[\\/]|[\\/]|~)/.test(target) || /\.(tgz|tar\.gz)$/i.test(target);
}

function scopeOf(name: string): string | null {
  return name.startsWith('@') ? name.slice(1, name.indexOf('/')) : null;
}

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

  async execute() {
    const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
    if (this.as !== 'package') return this.signAsFile(configuration, this.as as SignedFileKind);
    return this.withReport(configuration, async (report) => {
      const stores = this.attachStores(configuration);
      const pkg = await this.resolveTarget(configuration);
      const outcome = await this.signAndWrite(report, configuration, pkg);
      const attached = await this.attachToStores(report, configuration, stores, pkg, outcome);
      report.reportJson(signatureJson(pkg, outcome, attached));
    });
  }

  /** `--as policy|plugin-release`: any file, signed as what it is for. */
  private signAsFile(configuration: Configuration, kind: SignedFileKind): Promise<number> {
    return this.withReport(configuration, async (report) => {
      const path = resolve(this.context.cwd, this.target);
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (err) {
        throw new SigningError('TARBALL_UNREADABLE', `${path}: ${describeCause(err)}`, err);
      }
      report.reportInfo(signingMessage(SigningMessage.SIGNING), `Signing ${path} as a ${kind}`);
      const signed = await signFile(
        configuration,
        bytes,
        path,
        kind,
        { createdAt: new Date().toISOString() },
        {
          identityToken: this.identityToken,
          devIdentity: this.devIdentity,
          sigstoreServer: this.sigstoreServer,
          fulcioUrl: this.fulcioUrl,
          rekorUrl: this.rekorUrl,
          ...(this.trustedRoot ? { trustedRootPath: resolve(this.context.cwd, this.trustedRoot) } : {}),
        },
      );
      const out = resolve(this.context.cwd, this.output ?? `${path}.sigstore.json`);
      writeFileSync(out, `${JSON.stringify(signed.bundle, null, 2)}\n`);
      report.reportInfo(
        signingMessage(SigningMessage.SIGNED),
        `Signed the ${kind} ${path} (sha512 ${signed.sha512.slice(0, 16)}…) as ${signed.signer.subject} (issuer ${signed.signer.issuer})${signed.logIndex !== undefined ? `, transparency log index ${signed.logIndex}` : ''}; verified; bundle written to ${out}`,
      );
      report.reportJson({
        type: 'tollgate-file-signature',
        kind,
        file: path,
        sha512: signed.sha512,
        signer: signed.signer,
        logIndex: signed.logIndex ?? null,
        bundlePath: out,
      });
    });
  }

  private async resolveTarget(configuration: Configuration): Promise<PackageToSign> {
    const path = resolve(this.context.cwd, this.target);
    if (existsSync(path) || looksLikePath(this.target)) {
      if (!existsSync(path) || !statSync(path).isFile()) {
        throw new SigningError('TARBALL_UNREADABLE', `${path}: no such tarball`);
      }
      let tarball: Buffer;
      try {
        tarball = readFileSync(path);
      } catch (err) {
        throw new SigningError('TARBALL_UNREADABLE', `${path}: ${describeCause(err)}`, err);
      }
      const { name, version } = await tarballIdentity(tarball, path);
      const registry = npmConfigUtils.getScopeRegistry(scopeOf(name), {
        configuration,
        type: npmConfigUtils.RegistryType.PUBLISH_REGISTRY,
      });
      return { name, version, tarball, origin: path, registry };
    }
    const settings = readSettings(configuration);
    const fetched = await fetchPublishedTarball(
      this.target,
      (scope) => {
        const registry = npmConfigUtils.getScopeRegistry(scope, { configuration });
        const ident = scope ? structUtils.makeIdent(scope, 'package') : undefined;
        const auth = npmConfigUtils.getAuthConfiguration(registry, { configuration, ident });
        return { registry, authToken: (auth.get('npmAuthToken') as string | undefined) ?? null };
      },
      resolve(settings.cacheFolder, 'pacote'),
    );
    return fetched;
  }
}
