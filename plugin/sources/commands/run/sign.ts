// `TollgateSignCommand`'s implementation, loaded when the command runs (../sign.ts declares it).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Configuration, structUtils } from '@yarnpkg/core';
import { npmConfigUtils } from '@yarnpkg/plugin-npm';
import type { SignedFileKind } from '../../../../policy';
import { readSettings } from '../../settings';
import { describeCause, SigningError } from '../../signing/errors';
import { fetchPublishedTarball, tarballIdentity } from '../../signing/fetch-package';
import { SigningMessage, signingMessage } from '../../signing/messages';
import { signFile } from '../../signing/sign-file';
import {
  attachStores,
  attachToStores,
  type PackageToSign,
  signAndWrite,
  signatureJson,
  withReport,
} from '../../signing/signing-flow';
import type TollgateSignCommand from '../sign';

// A path (something with a directory part or a tarball extension) names a file; anything else is a
// package spec resolved on the registry the project uses for that name.
function looksLikePath(target: string): boolean {
  return /^(\.{1,2}[\\/]|[\\/]|~)/.test(target) || /\.(tgz|tar\.gz)$/i.test(target);
}

function scopeOf(name: string): string | null {
  return name.startsWith('@') ? name.slice(1, name.indexOf('/')) : null;
}

export async function execute(this: TollgateSignCommand) {
  const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
  if (this.as !== 'package') return signAsFile.call(this, configuration, this.as as SignedFileKind);
  return withReport.call(this, configuration, async (report) => {
    const stores = attachStores.call(this, configuration);
    const pkg = await resolveTarget.call(this, configuration);
    const outcome = await signAndWrite.call(this, report, configuration, pkg);
    const attached = await attachToStores.call(this, report, configuration, stores, pkg, outcome);
    report.reportJson(signatureJson(pkg, outcome, attached));
  });
}

/** `--as policy|plugin-release`: any file, signed as what it is for. */
function signAsFile(
  this: TollgateSignCommand,
  configuration: Configuration,
  kind: SignedFileKind,
): Promise<number> {
  return withReport.call(this, configuration, async (report) => {
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

async function resolveTarget(
  this: TollgateSignCommand,
  configuration: Configuration,
): Promise<PackageToSign> {
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
