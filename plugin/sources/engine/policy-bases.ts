// The bases a policy extends, as the plugin reads them: paths from the repository, URLs fetched and
// checked against their sha256 pin, signed files verified with Tollgate's verifier against the
// referencing policy's trust roots and the signers it names. Anything that cannot be read or does not
// verify is an error naming the `extends` entry: a base is never skipped.
//
// Loading a policy is synchronous (the gate needs it before resolution, in hooks that cannot wait);
// URLs are fetched beforehand (`prefetchPolicyBases`, awaited by every command and by the install
// before resolution) into this process's memory, and kept in an authenticated store in Tollgate's
// cache for offline runs: a sha256-pinned base is re-hashed on every read, a signed one re-verified.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import {
  type BaseResolver,
  type ExtendsReference,
  extendsReferencesOf,
  PUBLIC_GOOD_TRUST_ROOT,
  type Referrer,
  type ResolvedBase,
  verifySignedFile,
} from '../../../policy';
import { embeddedPublicGoodTrustedRoot, loadTrustRoots, type TrustRootSpec } from '../../../policy/evidence';
import type { TollgateSettings } from '../settings';
import { AuthenticatedStore } from './authenticated-store';
import { isInside, loadCacheSecret } from './cache-secret';

/** Reads a file of the repository: from disk, or (for `policy diff`) from a git ref. Throws like readFileSync. */
export type FileReader = (path: string) => Buffer;

interface Fetched {
  bytes: Map<string, Buffer>;
  failures: Map<string, string>;
}

const KEY = Symbol.for('tollgate.policy-bases');

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

async function download(url: string, timeoutMs: number): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
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
          cache?.write(sha256(url), { url, bytes: bytes.toString('base64') });
        } catch (err) {
          state.failures.set(url, (err as Error).message);
        }
      }
      if (reference.kind === 'url') {
        const bytes = state.bytes.get(reference.url) ?? cached(cache, reference.url);
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

function cached(cache: AuthenticatedStore | null, url: string): Buffer | undefined {
  const entry = cache?.read<{ url: string; bytes: string }>(sha256(url));
  return entry && entry.url === url ? Buffer.from(entry.bytes, 'base64') : undefined;
}

/** The bytes of a URL: fetched in this run, else (offline, or the fetch failed) the authenticated copy. */
function urlBytes(
  settings: TollgateSettings,
  url: string,
  allowCached: boolean,
): { bytes: Buffer; from: string } | { error: string } {
  const state = fetched();
  const live = state.bytes.get(url);
  if (live) return { bytes: live, from: 'fetched' };
  const failure = state.failures.get(url);
  if (allowCached) {
    const copy = cached(store(settings), url);
    if (copy) return { bytes: copy, from: 'the copy fetched earlier on this machine' };
  }
  if (settings.offline) return { error: `offline, and ${url} was never fetched on this machine` };
  return { error: failure ? `${url} could not be fetched (${failure})` : `${url} was not fetched` };
}

/** The referrer's trust roots a signed base may be verified by (files and public-good). */
function trustFor(
  reference: ExtendsReference,
  from: Referrer,
  read: FileReader,
): { specs: TrustRootSpec[] } | { error: string } {
  const specs: TrustRootSpec[] = [];
  for (const name of reference.signature!.trust) {
    if (name === PUBLIC_GOOD_TRUST_ROOT) {
      specs.push({ name, trustedRootJson: embeddedPublicGoodTrustedRoot() });
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
): { origin: string } | { error: string } {
  const origins: string[] = [];
  if (reference.sha256 !== undefined) {
    const actual = sha256(bytes);
    if (actual !== reference.sha256)
      return {
        error: `its sha256 is ${actual}, not the pinned ${reference.sha256}: these are not the bytes that were reviewed`,
      };
    origins.push(`sha256 ${reference.sha256.slice(0, 12)}…`);
  }
  if (reference.signature) {
    const url = bundleUrlOf(reference);
    let bundle: Buffer;
    if (url) {
      const got = urlBytes(settings, url, settings.offline);
      if ('error' in got) return { error: `its bundle cannot be read: ${got.error}` };
      bundle = got.bytes;
    } else {
      try {
        bundle = read(bundlePath!);
      } catch (err) {
        return {
          error: `its bundle ${relative(settings.projectCwd, bundlePath!) || bundlePath} cannot be read (${(err as NodeJS.ErrnoException).code}); sign it with \`yarn tollgate sign <file> --as policy\``,
        };
      }
    }
    const trust = trustFor(reference, from, read);
    if ('error' in trust) return trust;
    let verified: ReturnType<typeof verifySignedFile>;
    try {
      verified = verifySignedFile(
        loadTrustRoots(trust.specs, { embeddedNpmKeys: false }),
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
  return { origin: origins.length ? origins.join(', ') : 'path' };
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
    return {
      text: got.bytes.toString('utf8'),
      file: reference.url,
      origin: got.from === 'fetched' ? checked.origin : `${checked.origin}; ${got.from}`,
      key: reference.url,
    };
  };
}

/**
 * What the install verdict depends on besides the policy file itself: every base it was merged from
 * (by digest) and the trust-root files the bases declare.
 */
export function policyBaseInputs(
  policy: {
    layers?: Array<{ file: string; sha256: string }>;
    trustRoots: Array<{ file?: string; root?: string }>;
  },
  settings: TollgateSettings,
): Record<string, string> {
  if (!policy.layers || policy.layers.length < 2) return {};
  const files = policy.trustRoots
    .flatMap((r) => [r.file, r.root])
    .filter((f): f is string => f !== undefined)
    .map((f) => resolve(dirname(settings.policyPath ?? settings.projectCwd), f))
    .sort()
    .map((path) => {
      try {
        return `${path} ${sha256(readFileSync(path))}`;
      } catch {
        return `${path} absent`;
      }
    });
  return { policyBases: JSON.stringify([policy.layers.map((l) => [l.file, l.sha256]), files]) };
}
