// Refreshes named targets of one TUF repository with tuf-js's Updater (the TUF client workflow:
// root rotation chain, timestamp, snapshot, targets, with every signature, threshold, version and
// expiry check tuf-js makes), on top of the authenticated cache (tuf-cache.ts). This module does I/O
// (network and the cache folder) and is only called explicitly, by the plugin or `trust update`:
// verification itself never fetches anything.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { Fetcher, Updater } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error';
import { lastVerifiedTarget, openTufCache, saveTufCache, type TufCacheFolder } from './tuf-cache';
import { classifyTufError, TufError, TufNetworkError } from './tuf-error';

/**
 * online: always ask the repository (yarn tollgate trust update).
 * auto: use the cache while its timestamp is unexpired, else ask the repository.
 * offline: never ask; the cache while its timestamp is unexpired, else TUF_UNREACHABLE.
 */
export type TufNetworkMode = 'online' | 'auto' | 'offline';

export interface TufRefreshOptions {
  /** Where root.json, timestamp.json, N.snapshot.json, N.targets.json are served. */
  metadataUrl: string;
  /** Where targets are served; default `<metadataUrl>/targets`. */
  targetBaseUrl?: string;
  /** The root.json the chain starts from: committed with the policy, or embedded. */
  anchorRoot: Buffer;
  /** Tollgate's cache folder (a `tuf/` folder is made inside). */
  cacheRoot: string;
  /** The per-user key authenticating the cache. */
  secret: Buffer;
  /** Targets to return; each must be listed by the repository's targets metadata. */
  targets: string[];
  /** Targets returned when listed, skipped when not. */
  optionalTargets?: string[];
  mode: TufNetworkMode;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Replaces the HTTP fetcher (tests pass none: they use real servers). */
  fetcher?: Fetcher;
  /**
   * The anchor ships inside Tollgate (the root.json embedded in @sigstore/tuf), so tuf-js has nothing
   * to refuse in it: an offline refresh with no timestamp in the cache can only fail to reach the
   * repository, and says so without loading tuf-js.
   */
  anchorShipped?: boolean;
}

export interface TufRefreshResult {
  /** target name → bytes, each checked against the signed targets metadata */
  targets: Record<string, Buffer>;
  /** whether the repository was reached in this call, or everything came from the verified cache */
  from: 'network' | 'cache';
  /** when the repository was last reached and verified */
  verifiedAt: Date;
  rootVersion: number;
  timestampVersion: number;
  timestampExpires: Date;
  /** cache files that failed authentication and were discarded */
  rejected: string[];
}

const MAX_TARGET_BYTES = 5 * 1024 * 1024;
const OFFLINE_REASON = 'offline: the network is not used';
const CACHED_TIMESTAMP = 'metadata/timestamp.json';

type TufJs = typeof import('tuf-js');

interface CountingFetcher extends Fetcher {
  requests: number;
}

/**
 * tuf-js (with make-fetch-happen under its fetcher) is loaded when a refresh runs, not with the
 * plugin: most Yarn commands never refresh a trust root, and loading it cost 35 ms of each of them.
 */
async function loadTufJs(): Promise<TufJs> {
  return import('tuf-js');
}

/** HTTP GET with global fetch: no cache, a timeout, one retry on a failure to connect. */
function httpFetcher(tuf: TufJs, timeoutMs: number): CountingFetcher {
  return new (class HttpFetcher extends tuf.BaseFetcher {
    requests = 0;

    override async fetch(url: string): Promise<NodeJS.ReadableStream> {
      let lastError: unknown;
      for (let attempt = 0; attempt < 2; attempt++) {
        this.requests++;
        let response: Response;
        try {
          response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
        } catch (err) {
          lastError = err;
          continue;
        }
        if (!response.ok || !response.body) {
          await response.body?.cancel().catch(() => {});
          throw new DownloadHTTPError(`GET ${url} answered ${response.status}`, response.status);
        }
        return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
      }
      const cause = lastError as Error & { cause?: { code?: string } };
      throw new TufNetworkError(url, cause?.cause?.code ?? cause?.message ?? 'no answer');
    }
  })();
}

/** Refuses every request: offline mode, where only the verified cache may be used. */
function offlineFetcher(tuf: TufJs): CountingFetcher {
  return new (class OfflineFetcher extends tuf.BaseFetcher {
    requests = 0;
    override async fetch(url: string): Promise<NodeJS.ReadableStream> {
      this.requests++;
      throw new TufNetworkError(url, OFFLINE_REASON);
    }
  })();
}

function readRootVersion(bytes: Buffer): number {
  try {
    const version = (JSON.parse(bytes.toString('utf8')) as { signed?: { version?: unknown } }).signed
      ?.version;
    if (typeof version === 'number' && Number.isInteger(version) && version >= 1) return version;
  } catch {}
  throw new TufError(
    'TUF_ROOT_INVALID',
    'the root.json the TUF chain starts from is not TUF root metadata (no signed.version)',
  );
}

/** Refreshes and returns the targets; throws TufError (see tuf-error.ts). */
export async function refreshTuf(options: TufRefreshOptions): Promise<TufRefreshResult> {
  readRootVersion(options.anchorRoot);
  const metadataUrl = options.metadataUrl.replace(/\/+$/, '');
  const folder: TufCacheFolder = openTufCache(
    options.cacheRoot,
    metadataUrl,
    options.anchorRoot,
    options.secret,
  );
  const previous = folder.state?.verifiedAt;
  // Whatever tuf-js wrote to the folder it had verified first, so the state is saved even when the
  // refresh fails half-way (a newer root it followed is kept); the time of the last verified refresh
  // moves only when the whole refresh succeeded online.
  const save = (verifiedAt: string) =>
    saveTufCache(folder, options.secret, { metadataUrl, anchor: sha256Hex(options.anchorRoot), verifiedAt });
  const keepStateAfterFailure = () => {
    if (previous) save(previous);
    else if (folder.state === null) {
      // Nothing was ever verified: keep only the chain tuf-js followed, with no verified time.
      save(new Date(0).toISOString());
    }
  };
  if (
    options.mode === 'offline' &&
    options.anchorShipped &&
    !options.fetcher &&
    !folder.state?.files[CACHED_TIMESTAMP]
  ) {
    // tuf-js would try the next root version first (the cache holds no timestamp to start from) and
    // the offline fetcher would refuse it: the same failure, without the 50–100 ms of loading tuf-js.
    const failure = classifyTufError(new TufNetworkError(metadataUrl, OFFLINE_REASON), metadataUrl);
    keepStateAfterFailure();
    throw failure;
  }
  const tuf = await loadTufJs();
  const network =
    options.fetcher ??
    (options.mode === 'offline' ? offlineFetcher(tuf) : httpFetcher(tuf, options.timeoutMs ?? 10_000));
  const counting = network as { requests?: number };
  const before = counting.requests ?? 0;
  let updater: Updater;
  try {
    updater = new tuf.Updater({
      metadataDir: folder.metadataDir,
      metadataBaseUrl: metadataUrl,
      targetDir: folder.targetDir,
      targetBaseUrl: options.targetBaseUrl ?? `${metadataUrl}/targets`,
      forceCache: options.mode !== 'online' && folder.state !== null,
      fetcher: network,
      config: { fetchTimeout: options.timeoutMs ?? 10_000, targetsMaxLength: MAX_TARGET_BYTES },
    });
  } catch (err) {
    throw new TufError(
      'TUF_ROOT_INVALID',
      `the root.json the chain of ${metadataUrl} starts from cannot be used (${(err as Error).message}); commit the repository's root.json as published by its operator`,
      err,
    );
  }
  const targets: Record<string, Buffer> = {};
  try {
    await updater.refresh();
    const wanted = [
      ...options.targets.map((name) => ({ name, required: true })),
      ...(options.optionalTargets ?? []).map((name) => ({ name, required: false })),
    ];
    for (const { name, required } of wanted) {
      const info = await updater.getTargetInfo(name);
      if (!info) {
        if (!required) continue;
        throw new TufError(
          'TUF_NOT_FOUND',
          `the TUF repository ${metadataUrl} does not list the target "${name}" in its signed targets metadata`,
        );
      }
      // findCachedTarget checks length and hashes against the signed metadata; a cached copy that
      // fails is downloaded again and checked the same way.
      const path = (await updater.findCachedTarget(info)) ?? (await updater.downloadTarget(info));
      targets[name] = readFileSync(path);
    }
  } catch (err) {
    const failure = classifyTufError(err, metadataUrl);
    keepStateAfterFailure();
    throw failure;
  }
  const reached = (counting.requests ?? 1) > before;
  const verifiedAt = reached || !previous ? new Date() : new Date(previous);
  const trusted = (updater as unknown as { trustedSet: TrustedSetView }).trustedSet;
  save(verifiedAt.toISOString());
  return {
    targets,
    from: reached ? 'network' : 'cache',
    verifiedAt,
    rootVersion: trusted.root.signed.version,
    timestampVersion: trusted.timestamp?.signed.version ?? 0,
    timestampExpires: new Date(trusted.timestamp?.signed.expires ?? 0),
    rejected: folder.rejected,
  };
}

interface TrustedSetView {
  root: { signed: { version: number } };
  timestamp?: { signed: { version: number; expires: string } };
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface LastVerified {
  targets: Record<string, Buffer>;
  verifiedAt: Date;
}

/**
 * The copy tuf-js last verified, as the authenticated cache records it: what an offline caller may
 * fall back to (with a notice of its age). Null when there is none for some required target.
 */
export function lastVerifiedCopy(
  options: Pick<
    TufRefreshOptions,
    'metadataUrl' | 'anchorRoot' | 'cacheRoot' | 'secret' | 'targets' | 'optionalTargets'
  >,
): LastVerified | null {
  const metadataUrl = options.metadataUrl.replace(/\/+$/, '');
  let folder: TufCacheFolder;
  try {
    folder = openTufCache(options.cacheRoot, metadataUrl, options.anchorRoot, options.secret);
  } catch {
    return null;
  }
  if (!folder.state || Date.parse(folder.state.verifiedAt) === 0) return null;
  const targets: Record<string, Buffer> = {};
  for (const name of options.targets) {
    const bytes = lastVerifiedTarget(folder, name);
    if (!bytes) return null;
    targets[name] = bytes;
  }
  for (const name of options.optionalTargets ?? []) {
    const bytes = lastVerifiedTarget(folder, name);
    if (bytes) targets[name] = bytes;
  }
  return { targets, verifiedAt: new Date(folder.state.verifiedAt) };
}
