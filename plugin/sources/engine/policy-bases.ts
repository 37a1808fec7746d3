// The bases a policy extends, as the plugin reads them: paths from the repository, URLs fetched and
// checked against their sha256 pin, signed files verified with Tollgate's verifier against the
// referencing policy's trust roots and the signers it names. Anything that cannot be read or does not
// verify is an error naming the `extends` entry: a base is never skipped.
//
// Loading a policy is synchronous (the gate needs it before resolution, in hooks that cannot wait);
// URLs are fetched beforehand (`prefetchPolicyBases`, awaited by every command and by the install
// before resolution) into this process's memory. Once a base (and its bundle) verified, it is kept in
// an authenticated store in Tollgate's cache for offline runs — never before: a server that once
// answers with other bytes cannot evict the good copy. A sha256-pinned copy is re-hashed on every
// read, a signed one re-verified; a copy that does not authenticate is refused, and said so.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { TrustRootSpec } from '../../../policy/evidence/trust/context';
import {
  type BaseResolver,
  extendsReferencesOf,
  type Referrer,
  type ResolvedBase,
} from '../../../policy/extends';
import type { ExtendsReference } from '../../../policy/layers';
import { PUBLIC_GOOD_TRUST_ROOT } from '../../../policy/model';
import type { TollgateSettings } from '../settings';
import { AuthenticatedStore } from './authenticated-store';
import { isInside, loadCacheSecret } from './cache-secret';
import { mayExtend } from './policy-load';

/** Reads a file of the repository: from disk, or (for `policy diff`) from a git ref. Throws like readFileSync. */
export type FileReader = (path: string) => Buffer;

interface Fetched {
  bytes: Map<string, Buffer>;
  failures: Map<string, string>;
}

const KEY = Symbol.for('tollgate.policy-bases');

type Signatures = typeof import('./policy-base-signatures');

/**
 * The verifier for signed bases, loaded by prefetchPolicyBases, which every load of a policy awaits
 * first (loading is synchronous and cannot load it itself); a policy that extends nothing never needs it.
 */
let signatures: Signatures | undefined;

/** Shared on globalThis: Yarn evaluates the plugin factory more than once per command. */
function fetched(): Fetched {
  const holder = globalThis as unknown as Record<symbol, Fetched | undefined>;
  holder[KEY] ??= { bytes: new Map(), failures: new Map() };
  return holder[KEY];
}

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function store(settings: TollgateSettings): AuthenticatedStore | null {
  if (isInside(settings.cacheFolder, settings.projectCwd)) return null;
  try {
    return new AuthenticatedStore(resolve(settings.cacheFolder, 'policy-bases'), loadCacheSecret());
  } catch {
    return null;
  }
}

function bundleUrlOf(reference: ExtendsReference): string | undefined {
  if (!reference.signature) return undefined;
  const bundle = reference.signature.bundle;
  if (reference.kind === 'url')
    return bundle ? new URL(bundle, reference.url).toString() : `${reference.url}.sigstore.json`;
  return bundle && /^https?:\/\//.test(bundle) ? bundle : undefined;
}

/** A policy or its bundle is a few KiB; a server answering with more is not sending one. */
export const MAX_BASE_BYTES = 1024 * 1024;

async function download(url: string, timeoutMs: number): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const tooLarge = () =>
    new Error(`the answer is larger than ${MAX_BASE_BYTES / 1024} KiB, more than any policy or bundle`);
  if (Number(response.headers.get('content-length') ?? 0) > MAX_BASE_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_BASE_BYTES) throw tooLarge();
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/**
 * Why a download failed, in words a person can act on: fetch() itself only says "fetch failed" and
 * keeps the reason (connection refused, unknown host, a redirect) in its cause.
 */
export function describeFetchFailure(err: unknown, timeoutMs: number): string {
  const error = err as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (error?.name === 'TimeoutError' || error?.name === 'AbortError')
    return `no answer within ${timeoutMs / 1000} s (tollgateNetworkTimeout)`;
  const cause = error?.cause;
  if (cause && typeof cause.message === 'string' && cause.message) {
    const code = typeof cause.code === 'string' ? cause.code : undefined;
    return code && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message;
  }
  return typeof error?.message === 'string' ? error.message : String(err);
}

/**
 * Fetches every URL the policy's tree of bases names (bases and their bundles) into this process,
 * once. Failures are recorded, not thrown: the load that needs the base reports them, located.
 */
export async function prefetchPolicyBases(
  settings: TollgateSettings,
  policyText?: string,
  read: FileReader = readFileSync,
): Promise<void> {
  if (!settings.policyPath) return;
  let text = policyText;
  if (text === undefined) {
    try {
      text = read(settings.policyPath).toString('utf8');
    } catch {
      return;
    }
  }
  const state = fetched();
  const cache = store(settings);
  const visit = async (body: string, file: string, dir: string | undefined, depth: number): Promise<void> => {
    if (depth > 8) return;
    // Most policies extend nothing: their YAML is not parsed twice (the load parses it).
    if (!mayExtend(body)) return;
    signatures ??= await import('./policy-base-signatures');
    const { references } = extendsReferencesOf(body, file);
    for (const reference of references) {
      const urls = [reference.kind === 'url' ? reference.url : undefined, bundleUrlOf(reference)].filter(
        (u): u is string => u !== undefined,
      );
      for (const url of urls) {
        if (state.bytes.has(url) || settings.offline) continue;
        try {
          const bytes = await download(url, settings.networkTimeoutMs);
          state.bytes.set(url, bytes);
          state.failures.delete(url);
        } catch (err) {
          state.failures.set(url, describeFetchFailure(err, settings.networkTimeoutMs));
        }
      }
      if (reference.kind === 'url') {
        const copy = cached(cache, reference.url);
        const bytes = state.bytes.get(reference.url) ?? (copy && 'bytes' in copy ? copy.bytes : undefined);
        if (bytes) await visit(bytes.toString('utf8'), reference.url, undefined, depth + 1);
      } else if (dir !== undefined) {
        const path = resolve(dir, reference.path);
        try {
          await visit(read(path).toString('utf8'), path, dirname(path), depth + 1);
        } catch {}
      }
    }
  };
  await visit(text, settings.policyPath, dirname(settings.policyPath), 0);
}

/**
 * The copy of a URL in Tollgate's cache: its bytes, nothing, or why an entry that is there is not
 * believed (it does not authenticate with this machine's key: edited, or planted from elsewhere).
 */
function cached(
  cache: AuthenticatedStore | null,
  url: string,
): { bytes: Buffer } | { refused: string } | undefined {
  if (!cache) return undefined;
  const name = sha256(url);
  const entry = cache.read<{ url: string; bytes: string }>(name);
  if (entry && entry.url === url && typeof entry.bytes === 'string')
    return { bytes: Buffer.from(entry.bytes, 'base64') };
  const path = join(cache.dir, `${name}.json`);
  if (!existsSync(path)) return undefined;
  return {
    refused: `the copy in Tollgate's cache (${path}) does not authenticate with this machine's cache key, so it was changed after Tollgate wrote it or comes from elsewhere: it is not used`,
  };
}

function keep(settings: TollgateSettings, url: string, bytes: Buffer): void {
  store(settings)?.write(sha256(url), { url, bytes: bytes.toString('base64') });
}

/** The bytes of a URL: fetched in this run, else (offline, or the fetch failed) the authenticated copy. */
function urlBytes(
  settings: TollgateSettings,
  url: string,
  allowCached: boolean,
): { bytes: Buffer; fetched: boolean; from: string } | { error: string } {
  const state = fetched();
  const live = state.bytes.get(url);
  if (live) return { bytes: live, fetched: true, from: 'fetched' };
  const failure = state.failures.get(url);
  let refused: string | undefined;
  if (allowCached) {
    const copy = cached(store(settings), url);
    if (copy && 'bytes' in copy)
      return { bytes: copy.bytes, fetched: false, from: 'the copy fetched earlier on this machine' };
    refused = copy?.refused;
  }
  if (settings.offline)
    return {
      error: refused ? `offline, and ${refused}` : `offline, and ${url} was never fetched on this machine`,
    };
  const why = failure ? `${url} could not be fetched (${failure})` : `${url} was not fetched`;
  if (refused) return { error: `${why}; ${refused}` };
  // A signed base's copy is not used online (see policyBaseResolver): say how to use it.
  const copy = allowCached ? undefined : cached(store(settings), url);
  return {
    error:
      copy && 'bytes' in copy
        ? `${why}; the copy verified earlier on this machine is used only offline (tollgateOffline: true, or --offline)`
        : why,
  };
}

/** The referrer's trust roots a signed base may be verified by (files and public-good). */
function trustFor(
  signatures: Signatures,
  reference: ExtendsReference,
  from: Referrer,
  read: FileReader,
): { specs: TrustRootSpec[] } | { error: string } {
  const specs: TrustRootSpec[] = [];
  for (const name of reference.signature!.trust) {
    if (name === PUBLIC_GOOD_TRUST_ROOT) {
      specs.push({ name, trustedRootJson: signatures.embeddedPublicGoodTrustedRoot() });
      continue;
    }
    const root = from.trustRoots.find((r) => r.name === name);
    if (!root?.file || from.dir === undefined)
      return {
        error: `trust root "${name}" must be a trusted_root.json file declared in ${from.file} to verify a signed base`,
      };
    try {
      specs.push({ name, trustedRootJson: read(resolve(from.dir, root.file)).toString('utf8') });
    } catch (err) {
      return {
        error: `trust root "${name}" (${root.file}) cannot be read (${(err as NodeJS.ErrnoException).code})`,
      };
    }
  }
  return { specs };
}

/** Checks a base's bytes against its pin and its signature; returns how they were checked. */
function check(
  settings: TollgateSettings,
  reference: ExtendsReference,
  from: Referrer,
  bytes: Buffer,
  bundlePath: string | undefined,
  read: FileReader,
): { origin: string; fetchedBundle?: { url: string; bytes: Buffer } } | { error: string } {
  const origins: string[] = [];
  let fetchedBundle: { url: string; bytes: Buffer } | undefined;
  if (reference.sha256 !== undefined) {
    const actual = sha256(bytes);
    if (actual !== reference.sha256)
      return {
        error: `its sha256 is ${actual}, not the pinned ${reference.sha256}: these are not the bytes that were reviewed`,
      };
    // The digest itself is shown beside every layer (describeLayers).
    origins.push('pinned by sha256');
  }
  if (reference.signature) {
    if (!signatures)
      return {
        error: `its signature cannot be checked: the bases were not read before the policy was loaded (write the key \`extends\` plainly, without escapes)`,
      };
    const url = bundleUrlOf(reference);
    let bundle: Buffer;
    if (url) {
      const got = urlBytes(settings, url, settings.offline);
      if ('error' in got) return { error: `its bundle cannot be read: ${got.error}` };
      bundle = got.bytes;
      if (got.fetched) fetchedBundle = { url, bytes: bundle };
    } else {
      try {
        bundle = read(bundlePath!);
      } catch (err) {
        return {
          error: `its bundle ${relative(settings.projectCwd, bundlePath!) || bundlePath} cannot be read (${(err as NodeJS.ErrnoException).code}); sign it with \`yarn tollgate sign <file> --as policy\``,
        };
      }
    }
    const trust = trustFor(signatures, reference, from, read);
    if ('error' in trust) return trust;
    let verified: ReturnType<Signatures['verifySignedFile']>;
    try {
      verified = signatures.verifySignedFile(
        signatures.loadTrustRoots(trust.specs, { embeddedNpmKeys: false }),
        bytes,
        bundle.toString('utf8'),
        {
          kind: 'policy',
          trust: reference.signature.trust,
          signers: reference.signature.signers,
        },
      );
    } catch (err) {
      return { error: `its signature cannot be checked: ${(err as Error).message}` };
    }
    if (!verified.ok) return { error: `its signature is not accepted: ${verified.message}` };
    origins.push(
      `signed by ${verified.signer.subject} (issuer ${verified.signer.issuer}${verified.facts.logIndex !== undefined ? `, log index ${verified.facts.logIndex}` : ''})`,
    );
  }
  return {
    origin: origins.length ? origins.join(', ') : 'path',
    ...(fetchedBundle ? { fetchedBundle } : {}),
  };
}

/** Resolves `extends` entries for the policy loader (synchronous; URLs come from the prefetch). */
export function policyBaseResolver(
  settings: TollgateSettings,
  read: FileReader = readFileSync,
): BaseResolver {
  return (reference, from): ResolvedBase | { error: string } => {
    if (reference.kind === 'path') {
      if (from.dir === undefined)
        return {
          error: `${from.file} was fetched from a URL, so it can only extend URLs pinned by sha256 or signed (a path would mean a file of whichever repository uses it)`,
        };
      const path = resolve(from.dir, reference.path);
      let bytes: Buffer;
      try {
        bytes = read(path);
      } catch (err) {
        return { error: `${path} cannot be read (${(err as NodeJS.ErrnoException).code})` };
      }
      const bundle = reference.signature?.bundle;
      const checked = check(
        settings,
        reference,
        from,
        bytes,
        bundle && !/^https?:\/\//.test(bundle) ? resolve(from.dir, bundle) : `${path}.sigstore.json`,
        read,
      );
      if ('error' in checked) return checked;
      if (checked.fetchedBundle) keep(settings, checked.fetchedBundle.url, checked.fetchedBundle.bytes);
      return {
        text: bytes.toString('utf8'),
        file: relative(settings.projectCwd, path) || path,
        origin: checked.origin,
        key: path,
        dir: dirname(path),
      };
    }
    // A pinned base's copy is as good as a fresh one (the hash decides); a signed one is used from the
    // cache only offline, so a newer signed base is never hidden behind an older copy while online.
    const got = urlBytes(settings, reference.url, reference.sha256 !== undefined || settings.offline);
    if ('error' in got) return got;
    const checked = check(settings, reference, from, got.bytes, undefined, read);
    if ('error' in checked) return checked;
    // Only what verified is kept for offline runs.
    if (got.fetched) keep(settings, reference.url, got.bytes);
    if (checked.fetchedBundle) keep(settings, checked.fetchedBundle.url, checked.fetchedBundle.bytes);
    return {
      text: got.bytes.toString('utf8'),
      file: reference.url,
      origin: got.from === 'fetched' ? checked.origin : `${checked.origin}; ${got.from}`,
      key: reference.url,
    };
  };
}
