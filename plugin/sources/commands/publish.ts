import { WorkspaceRequiredError } from '@yarnpkg/cli';
import { Configuration, miscUtils, Project, scriptUtils, structUtils } from '@yarnpkg/core';
import { npmConfigUtils, npmHttpUtils, npmPublishUtils } from '@yarnpkg/plugin-npm';
import { packUtils } from '@yarnpkg/plugin-pack';
import { Option, UsageError } from 'clipanion';
import { describeCause, SigningError } from '../signing/errors';
import { SigningMessage, signingMessage } from '../signing/messages';
import { integrityOf } from '../signing/sign-package';
import { type PackageToSign, SigningCommand, signatureJson } from '../signing/signing-command';

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
    `,
    examples: [
      ['Publish from GitHub Actions with SLSA provenance', 'yarn tollgate publish'],
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
}
