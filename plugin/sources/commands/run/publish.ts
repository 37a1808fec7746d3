// `TollgatePublishCommand`'s implementation, loaded when the command runs (../publish.ts declares it).
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
import { UsageError } from 'clipanion';
import { readSettings } from '../../settings';
import { defaultBundleFileName } from '../../signing/attach';
import { foreseeIdentity } from '../../signing/dry-run';
import { describeCause, SigningError } from '../../signing/errors';
import { SigningMessage, signingMessage } from '../../signing/messages';
import { integrityOf } from '../../signing/sign-package';
import {
  attachStores,
  attachToStores,
  type PackageToSign,
  signAndWrite,
  signatureJson,
  withReport,
} from '../../signing/signing-flow';
import { resolveInstance } from '../../signing/sigstore-instance';
import { sha512Hex } from '../../signing/statement';
import type TollgatePublishCommand from '../publish';

export async function execute(this: TollgatePublishCommand) {
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

  return withReport.call(this, configuration, async (report) => {
    const stores = attachStores.call(this, configuration);
    await scriptUtils.maybeExecuteWorkspaceLifecycleScript(workspace, 'prepublish', { report });
    await packUtils.prepareForPack(workspace, { report }, async () => {
      const files = await packUtils.genPackList(workspace);
      const tarball = await miscUtils.bufferStream(await packUtils.genPackStream(workspace, files));
      const pkg: PackageToSign = { name, version, tarball, origin: `workspace ${name}`, registry };
      if (this.dryRun) {
        reportDryRun.call(this, report, configuration, pkg, stores, files.length);
        return;
      }

      const outcome = await signAndWrite.call(this, report, configuration, pkg);

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
      const attached = await attachToStores.call(
        this,
        report,
        configuration,
        stores,
        { name, version },
        outcome,
      );
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
function reportDryRun(
  this: TollgatePublishCommand,
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
