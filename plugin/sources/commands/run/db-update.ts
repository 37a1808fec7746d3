// `DbUpdateCommand`'s implementation, loaded when the command runs (../db-update.ts declares it).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Configuration, httpUtils, StreamReport } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import {
  bytesFiles,
  ImportProblem,
  type IndexHeader,
  importFiles,
  pathFiles,
  type SourceFile,
  verifySnapshot,
} from '../../../../knownbad';
import { normalizeRegistryUrl } from '../../../../policy';
import type { KnownBadSourcePolicy } from '../../../../policy/model';
import type { EngineContext } from '../../engine/context';
import { KnownBadStore } from '../../engine/known-bad-store';
import { describeCause, httpStatusOf } from '../../http-errors';
import { messageName, TollgateMessage } from '../../messages';
import { EXIT, openEngine } from '../command-support';
import type DbUpdateCommand from '../db-update';

/** A refusal of the input (exit 1) or a usage problem (exit 2), said in one line. */
class UpdateProblem extends Error {
  constructor(
    message: string,
    readonly exit: number,
  ) {
    super(message);
  }
}

interface Resolved {
  /** the source as recorded (a policy source's name, a URL, an absolute path) */
  source: string;
  files: () => Iterable<SourceFile>;
  /** the bytes a signature must be over (a file or a download; a folder cannot be signed) */
  bytes?: Buffer;
  bundle?: string;
  /** the policy source whose signers must have signed it */
  required?: KnownBadSourcePolicy;
}

export async function execute(this: DbUpdateCommand) {
  const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
  let exit: number = EXIT.OK;
  await StreamReport.start(
    { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
    async (report) => {
      const code = messageName(TollgateMessage.KNOWN_BAD);
      const ctx = await openEngine(configuration, report);
      if (!ctx) {
        exit = EXIT.USAGE;
        return;
      }
      try {
        const store = new KnownBadStore(ctx.settings.cacheFolder, ctx.cacheSecret);
        let sources = this.from ?? [];
        if (sources.length === 0) {
          sources = ctx.knownBad.parts.map((p) => p.source);
          if (sources.length === 0)
            throw new UpdateProblem(
              'no source given and none imported before: `yarn tollgate db update --from <OSV zip | folder | URL | knownBad.sources name>`',
              EXIT.USAGE,
            );
        }
        for (const source of sources) {
          const resolved = await resolveSource.call(this, configuration, ctx, source);
          const signed = checkSignature.call(this, ctx, resolved);
          let imported: { header: IndexHeader; index: Buffer };
          try {
            imported = importFiles(resolved.files(), {
              source: resolved.source,
              now: ctx.now,
              ...(signed ? { signed } : {}),
            });
          } catch (err) {
            if (err instanceof ImportProblem) throw new UpdateProblem(err.message, EXIT.VIOLATIONS);
            throw err;
          }
          const { header } = imported;
          store.write(header, imported.index);
          const c = header.counts;
          report.reportInfo(
            code,
            `Tollgate: imported ${c.records} record(s) from ${header.source}: ${c.entries} package entr${c.entries === 1 ? 'y' : 'ies'}, ${c.withdrawn} withdrawn, ${c.otherEcosystems} for other ecosystems, ${c.invalid} invalid file(s) skipped${c.bundles ? `, ${c.bundles} bundle(s)` : ''}${c.signers ? `, ${c.signers} compromised signer(s)` : ''}; as of ${header.asOf}${signed ? ` (signed by ${signed.by}, issuer ${signed.issuer}, as ${signed.source})` : ' (unsigned)'}`,
          );
          for (const problem of header.problems.slice(0, 5))
            report.reportWarning(code, `Tollgate: skipped ${problem}`);
          if (header.problems.length > 5)
            report.reportWarning(code, `Tollgate: ... and ${c.invalid - 5} more invalid file(s)`);
          report.reportJson({
            type: 'tollgate-known-bad-import',
            ...header,
            bundles: undefined,
            signers: undefined,
          });
        }
      } catch (err) {
        if (!(err instanceof UpdateProblem)) throw err;
        report.reportError(code, `Tollgate: ${err.message}`);
        exit = err.exit;
      } finally {
        await ctx.close();
      }
    },
  );
  return exit;
}

function named(this: DbUpdateCommand, ctx: EngineContext, name: string): KnownBadSourcePolicy {
  const found = ctx.policy.knownBad?.sources.find((s) => s.name === name);
  if (!found)
    throw new UpdateProblem(
      `${name} is not a knownBad.sources entry of ${ctx.policyFile} (declared: ${ctx.policy.knownBad?.sources.map((s) => s.name).join(', ') || 'none'})`,
      EXIT.USAGE,
    );
  return found;
}

async function resolveSource(
  this: DbUpdateCommand,
  configuration: Configuration,
  ctx: EngineContext,
  given: string,
): Promise<Resolved> {
  const declared = ctx.policy.knownBad?.sources ?? [];
  let required = this.signedBy ? named.call(this, ctx, this.signedBy) : undefined;
  let location = given;
  const byName = declared.find((s) => s.name === given);
  if (byName) {
    if (!byName.url)
      throw new UpdateProblem(
        `knownBad.sources ${given} has no url; give the snapshot's file or URL with --from and --signed-by ${given}`,
        EXIT.USAGE,
      );
    required = byName;
    location = byName.url;
  }
  if (/^https?:\/\//i.test(location)) {
    const normalized = normalizeRegistryUrl(location);
    const asUrl = 'url' in normalized ? normalized.url : location;
    required ??= declared.find((s) => s.url === asUrl || s.url === `${asUrl.replace(/\/$/, '')}`);
    const url = location.replace(/\/+$/, '');
    const bytes = await download(configuration, url, `the known-bad source ${url}`);
    const bundle = this.bundle
      ? readBundle(resolve(npath.fromPortablePath(this.context.cwd), this.bundle))
      : await downloadOptional(configuration, `${url}.sigstore.json`);
    return {
      source: byName ? given : url,
      files: () => bytesFiles(bytes, url),
      bytes,
      ...(bundle ? { bundle } : {}),
      ...(required ? { required } : {}),
    };
  }
  const path = resolve(npath.fromPortablePath(this.context.cwd), location);
  if (!existsSync(path))
    throw new UpdateProblem(
      `${path} does not exist; give an OSV zip, a folder of OSV records, a URL, or a knownBad.sources name`,
      EXIT.USAGE,
    );
  const isFile = statSync(path).isFile();
  const bytes = isFile ? readFileSync(path) : undefined;
  const bundlePath = this.bundle
    ? resolve(npath.fromPortablePath(this.context.cwd), this.bundle)
    : isFile && existsSync(`${path}.sigstore.json`)
      ? `${path}.sigstore.json`
      : undefined;
  const bundle = bundlePath ? readBundle(bundlePath) : undefined;
  return {
    source: byName ? given : path,
    files: () => (bytes ? bytesFiles(bytes, path) : pathFiles(path)),
    ...(bytes ? { bytes } : {}),
    ...(bundle ? { bundle } : {}),
    ...(required ? { required } : {}),
  };
}

/** Verifies a snapshot's signature; returns what the index records of it, or throws. */
function checkSignature(
  this: DbUpdateCommand,
  ctx: EngineContext,
  resolved: Resolved,
): IndexHeader['signed'] | undefined {
  const declared = ctx.policy.knownBad?.sources ?? [];
  if (!resolved.bundle) {
    if (resolved.required)
      throw new UpdateProblem(
        `${resolved.source} must be signed by knownBad.sources ${resolved.required.name}, and no bundle was found (${resolved.bytes ? '<source>.sigstore.json, or --bundle' : 'a folder cannot be signed: give the snapshot file'}); nothing was imported`,
        EXIT.VIOLATIONS,
      );
    return undefined;
  }
  if (!resolved.bytes)
    throw new UpdateProblem(`a folder cannot be signed: give the snapshot file with the bundle`, EXIT.USAGE);
  if (declared.length === 0 && !resolved.required)
    throw new UpdateProblem(
      `${resolved.source} is signed, but ${ctx.policyFile} names no knownBad.sources to verify it against; declare who signs it (knownBad.sources: [{ name, trust, signers }]), or import it without its bundle`,
      EXIT.USAGE,
    );
  const verified = verifySnapshot(
    ctx.trust,
    resolved.bytes,
    resolved.bundle,
    resolved.required ? [resolved.required] : declared,
  );
  if (!verified.ok)
    throw new UpdateProblem(
      `refused ${resolved.source}: ${verified.message}; nothing was imported`,
      EXIT.VIOLATIONS,
    );
  return {
    by: verified.signer.subject,
    issuer: verified.signer.issuer,
    source: verified.source.name,
    bundleDigest: verified.facts.bundleDigest,
    ...(verified.facts.integratedTime
      ? { integratedTime: new Date(verified.facts.integratedTime * 1000).toISOString() }
      : {}),
  };
}

function readBundle(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UpdateProblem(
      `the bundle ${path} cannot be read (${(err as NodeJS.ErrnoException).code})`,
      EXIT.USAGE,
    );
  }
}

async function download(configuration: Configuration, url: string, what: string): Promise<Buffer> {
  try {
    return await httpUtils.get(url, { configuration });
  } catch (err) {
    throw new UpdateProblem(
      `${what} could not be downloaded (${describeCause(err)}); nothing was imported`,
      EXIT.VIOLATIONS,
    );
  }
}

async function downloadOptional(configuration: Configuration, url: string): Promise<string | undefined> {
  try {
    return (await httpUtils.get(url, { configuration })).toString('utf8');
  } catch (err) {
    if (httpStatusOf(err) === 404) return undefined;
    throw new UpdateProblem(
      `the bundle ${url} could not be downloaded (${describeCause(err)}); nothing was imported`,
      EXIT.VIOLATIONS,
    );
  }
}
