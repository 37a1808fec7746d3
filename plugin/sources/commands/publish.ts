import { resolve } from 'node:path';
import { WorkspaceRequiredError } from '@yarnpkg/cli';
import {
  Configuration,
  miscUtils,
  Project,
  type StreamReport,
  scriptUtils,
  structUtils,
} from '@yarnpkg/core';
import { npmConfigUtils, npmHttpUtils, npmPublishUtils } from '@yarnpkg/plugin-npm';
import { packUtils } from '@yarnpkg/plugin-pack';
import { Option, UsageError } from 'clipanion';
import { readSettings } from '../settings';
import { defaultBundleFileName } from '../signing/attach';
import { foreseeIdentity } from '../signing/dry-run';
import { describeCause, SigningError } from '../signing/errors';
import { SigningMessage, signingMessage } from '../signing/messages';
import { integrityOf } from '../signing/sign-package';
import { type PackageToSign, SigningCommand, signatureJson } from '../signing/signing-command';
import { resolveInstance } from '../signing/sigstore-instance';
import { sha512Hex } from '../signing/statement';

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

  async execute() {
    const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
    const { project, workspace } = await Project.find(configuration, this.context.cwd);
    if (!workspace) throw new WorkspaceRequiredError(project.cwd, this.context.cwd);
    if (workspace.manifest.private) throw new UsageError('Private workspaces cannot be published');
    const ident = workspace.manifest.name;
    const version = workspace.manifest.version;
    if (ident === null || version === null) {
      throw new UsageError(
        'Workspaces must have valid names and versions to be published on an external registry',
      );
    }
    await project.restoreInstallState();
    const name = structUtils.stringifyIdent(ident);
    const registry = npmConfigUtils.getPublishRegistry(workspace.manifest, { configuration });

    return this.withReport(configuration, async (report) => {
      const stores = this.attachStores(configuration);
      await scriptUtils.maybeExecuteWorkspaceLifecycleScript(workspace, 'prepublish', { report });
      await packUtils.prepareForPack(workspace, { report }, async () => {
        const files = await packUtils.genPackList(workspace);
        const tarball = await miscUtils.bufferStream(await packUtils.genPackStream(workspace, files));
        const pkg: PackageToSign = { name, version, tarball, origin: `workspace ${name}`, registry };
        if (this.dryRun) {
          this.reportDryRun(report, configuration, pkg, stores, files.length);
          return;
        }

        const outcome = await this.signAndWrite(report, configuration, pkg);

        const gitHead = await npmPublishUtils.getGitHead(workspace.cwd);
        const body = await npmPublishUtils.makePublishBody(workspace, tarball, {
          access: this.access,
          tag: this.tag,
          registry,
          gitHead,
          provenance: false,
        });
        // The registry is told the integrity of these bytes; it must be the digest that was signed.
        const announced = body.versions[version]?.dist.integrity;
        if (announced !== integrityOf(tarball) || announced !== outcome.signed.subject.integrity) {
          throw new SigningError(
            'PUBLISH_FAILED',
            `the publish body names integrity ${announced}, but ${outcome.signed.subject.integrity} was signed; nothing was published`,
          );
        }
        try {
          await npmHttpUtils.put(npmHttpUtils.getIdentUrl(ident), body, {
            configuration,
            registry,
            ident,
            otp: this.otp,
            jsonResponse: true,
          });
        } catch (err) {
          throw new SigningError(
            'PUBLISH_FAILED',
            `${registry} refused ${name}@${version}: ${describeCause(err)}. The signature is logged and kept in ${outcome.bundlePath}; it was not attached`,
            err,
          );
        }
        report.reportInfo(
          signingMessage(SigningMessage.PUBLISHED),
          `Published ${name}@${version} (${announced}) to ${registry} with tag ${this.tag}`,
        );
        const attached = await this.attachToStores(report, configuration, stores, { name, version }, outcome);
        report.reportJson({
          ...signatureJson(pkg, outcome, attached),
          published: true,
          registry,
          tag: this.tag,
          files: files.length,
        });
      });
    });
  }
  /** What the publish would do, told without a token request, a certificate, a log entry or an upload. */
  private reportDryRun(
    report: StreamReport,
    configuration: Configuration,
    pkg: PackageToSign,
    stores: string[],
    files: number,
  ): void {
    const instance = resolveInstance({
      settings: readSettings(configuration),
      fulcioUrl: this.fulcioUrl,
      rekorUrl: this.rekorUrl,
      sigstoreServer: this.sigstoreServer,
      trustedRootPath: this.trustedRoot ? resolve(this.context.cwd, this.trustedRoot) : undefined,
    });
    const identity = foreseeIdentity({
      identityToken: this.identityToken,
      devIdentity: this.devIdentity,
      devIssuerServer: instance.devIssuerServer,
      provenance: this.provenance,
      env: process.env,
    });
    const integrity = integrityOf(pkg.tarball);
    const bundlePath = resolve(this.context.cwd, this.output ?? defaultBundleFileName(pkg.name, pkg.version));
    const info = (line: string) => report.reportInfo(signingMessage(SigningMessage.SIGNING), line);
    info(`Dry run: would sign ${pkg.name}@${pkg.version} (${files} files, ${pkg.tarball.length} bytes)`);
    info(`  tarball: ${integrity} (sha512 ${sha512Hex(integrity)})`);
    info(`  statement: ${identity.note}`);
    info(
      `  identity: ${identity.subject ?? 'not known before signing'}${identity.issuer ? ` (issuer ${identity.issuer})` : ''}, token from ${identity.source}`,
    );
    info(`  certificate authority ${instance.fulcioURL}, log ${instance.rekorURL}`);
    info(`  registry: ${pkg.registry}, tag ${this.tag}${this.access ? `, access ${this.access}` : ''}`);
    info(`  attestation stores: ${stores.length ? stores.join(', ') : 'none'}; bundle file ${bundlePath}`);
    report.reportInfo(
      signingMessage(SigningMessage.SKIPPED),
      'Dry run: nothing was signed, logged, published or attached (no token was requested)',
    );
    report.reportJson({
      type: 'tollgate-publish-dry-run',
      name: pkg.name,
      version: pkg.version,
      integrity,
      sha512: sha512Hex(integrity),
      size: pkg.tarball.length,
      files,
      kind: identity.kind,
      identity: { subject: identity.subject, issuer: identity.issuer, source: identity.source },
      fulcioUrl: instance.fulcioURL,
      rekorUrl: instance.rekorURL,
      registry: pkg.registry,
      tag: this.tag,
      attestationStores: stores,
      bundlePath,
      signed: false,
      published: false,
    });
  }
}
