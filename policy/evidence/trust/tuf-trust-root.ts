// A trust root kept fresh over TUF: the public-good one (its chain starts at the root.json embedded in
// @sigstore/tuf) or a policy's `{ tuf, root }` (its chain starts at the committed root.json). Refreshes
// with tuf-client.ts and decides what may be used when the repository cannot be reached:
// - reached and verified: the fresh copy;
// - not reached (offline, refused, timed out): the copy last verified on this machine, or for
//   public-good the copy embedded in @sigstore/tuf, each with a notice saying how old it is;
// - reached, but expired, rolled back, badly signed or mismatching: an error (fail closed).
import type { TrustRootSpec } from './context';
import {
  embeddedNpmRegistryKeys,
  embeddedPublicGoodTrustedRoot,
  embeddedPublicGoodTufRoot,
  PUBLIC_GOOD_TARGETS,
} from './seeds';
import { parseTrustedRoot } from './trusted-root';
import { lastVerifiedCopy, refreshTuf, type TufNetworkMode } from './tuf-client';
import { TufError } from './tuf-error';

export const TRUSTED_ROOT_TARGET = 'trusted_root.json';
export const SIGNING_CONFIG_TARGET = 'signing_config.v0.2.json';

export interface TufTrustRootRequest {
  name: string;
  metadataUrl: string;
  anchorRoot: Buffer;
  cacheRoot: string;
  secret: Buffer;
  mode: TufNetworkMode;
  timeoutMs?: number;
  now?: Date;
}

export interface ResolvedTufTrustRoot {
  spec: TrustRootSpec;
  /** the npm registry keys document (public-good only) */
  npmKeys?: string;
  /** signing_config.v0.2.json, when the repository lists one */
  signingConfig?: string;
  from: 'network' | 'cache' | 'last-verified' | 'embedded';
  /** when this copy was verified online (absent for the embedded copy) */
  verifiedAt?: Date;
  rootVersion?: number;
  timestampExpires?: Date;
  /** said to the user when the copy may be stale or cache files were thrown away */
  notices: string[];
}

export function describeAge(from: Date, now: Date): string {
  const ms = Math.max(0, now.getTime() - from.getTime());
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} hour${hours === 1 ? '' : 's'}`;
  const days = Math.floor(hours / 24);
  return `${days} days`;
}

/** The newest validFor.start in a trusted root: the copy is at least that old. */
function newestKeyStart(trustedRootJson: string): Date | null {
  let newest: Date | null = null;
  try {
    type Dated = { validFor?: { start?: unknown }; publicKey?: { validFor?: { start?: unknown } } };
    const doc = JSON.parse(trustedRootJson) as Record<string, Dated[] | undefined>;
    for (const list of [doc.tlogs, doc.ctlogs, doc.certificateAuthorities, doc.timestampAuthorities]) {
      for (const item of list ?? []) {
        const start = item?.publicKey?.validFor?.start ?? item?.validFor?.start;
        const t = typeof start === 'string' ? new Date(start) : null;
        if (t && !Number.isNaN(t.getTime()) && (!newest || t > newest)) newest = t;
      }
    }
  } catch {}
  return newest;
}

function checkedTrustedRoot(name: string, bytes: Buffer, repository: string): string {
  const text = bytes.toString('utf8');
  try {
    parseTrustedRoot(text, name);
  } catch (err) {
    throw new TufError(
      'TUF_MALFORMED',
      `the TUF repository ${repository} signed a trusted_root.json that cannot be used: ${(err as Error).message}`,
      err,
    );
  }
  return text;
}

async function resolve(
  request: TufTrustRootRequest,
  targets: string[],
  optionalTargets: string[],
  /** the copy to use when the repository was not reached and nothing was verified here (offline: no cause) */
  fallback: (cause: string | null) => ResolvedTufTrustRoot | null,
  anchorShipped = false,
): Promise<ResolvedTufTrustRoot> {
  const now = request.now ?? new Date();
  const common = {
    metadataUrl: request.metadataUrl,
    anchorRoot: request.anchorRoot,
    cacheRoot: request.cacheRoot,
    secret: request.secret,
    targets,
    optionalTargets,
  };
  try {
    const result = await refreshTuf({
      ...common,
      mode: request.mode,
      timeoutMs: request.timeoutMs,
      anchorShipped,
    });
    const notices = result.rejected.length
      ? [
          `the TUF cache of "${request.name}" held files that did not authenticate and were refused: ${result.rejected.join(', ')}${result.from === 'network' ? '; they were fetched again and verified' : ''}`,
        ]
      : [];
    return {
      spec: {
        name: request.name,
        trustedRootJson: checkedTrustedRoot(
          request.name,
          result.targets[TRUSTED_ROOT_TARGET]!,
          request.metadataUrl,
        ),
      },
      ...(result.targets[PUBLIC_GOOD_TARGETS.npmKeys]
        ? { npmKeys: result.targets[PUBLIC_GOOD_TARGETS.npmKeys]!.toString('utf8') }
        : {}),
      ...(result.targets[SIGNING_CONFIG_TARGET]
        ? { signingConfig: result.targets[SIGNING_CONFIG_TARGET]!.toString('utf8') }
        : {}),
      from: result.from,
      verifiedAt: result.verifiedAt,
      rootVersion: result.rootVersion,
      timestampExpires: result.timestampExpires,
      notices,
    };
  } catch (err) {
    const failure = err instanceof TufError ? err : new TufError('TUF_MALFORMED', String(err), err);
    if (!failure.fallbackAllowed) throw failure;
    const last = lastVerifiedCopy(common);
    if (last) {
      return {
        spec: {
          name: request.name,
          trustedRootJson: checkedTrustedRoot(
            request.name,
            last.targets[TRUSTED_ROOT_TARGET]!,
            request.metadataUrl,
          ),
        },
        ...(last.targets[PUBLIC_GOOD_TARGETS.npmKeys]
          ? { npmKeys: last.targets[PUBLIC_GOOD_TARGETS.npmKeys]!.toString('utf8') }
          : {}),
        from: 'last-verified',
        verifiedAt: last.verifiedAt,
        notices: [
          `trust root "${request.name}": ${request.mode === 'offline' ? 'offline' : failure.message}; using the copy verified ${describeAge(last.verifiedAt, now)} ago (${last.verifiedAt.toISOString()}); run \`yarn tollgate trust update\` with network access to refresh it`,
        ],
      };
    }
    const embedded = fallback(request.mode === 'offline' ? null : failure.message);
    if (embedded) return embedded;
    throw new TufError(
      'TUF_NO_VERIFIED_COPY',
      `trust root "${request.name}": no copy of its trusted_root.json was ever verified on this machine, and ${request.mode === 'offline' ? 'this run is offline' : failure.message}; run \`yarn tollgate trust update\` where ${request.metadataUrl} can be reached`,
      failure,
    );
  }
}

/** The public-good trust root (and npm registry keys), refreshed over TUF from the embedded root.json. */
export async function resolvePublicGoodTrustRoot(
  request: Omit<TufTrustRootRequest, 'name' | 'anchorRoot' | 'metadataUrl'> & { metadataUrl?: string },
): Promise<ResolvedTufTrustRoot> {
  const seed = embeddedPublicGoodTufRoot();
  const now = request.now ?? new Date();
  return resolve(
    {
      ...request,
      name: 'public-good',
      anchorRoot: seed.root,
      metadataUrl: request.metadataUrl ?? seed.metadataUrl,
    },
    [TRUSTED_ROOT_TARGET],
    [PUBLIC_GOOD_TARGETS.npmKeys],
    (cause) => {
      const trustedRootJson = embeddedPublicGoodTrustedRoot();
      const newest = newestKeyStart(trustedRootJson);
      return {
        spec: { name: 'public-good', trustedRootJson },
        npmKeys: embeddedNpmRegistryKeys(),
        from: 'embedded',
        notices: [
          `trust root "public-good": ${cause ? `${cause}; ` : ''}the copy embedded in @sigstore/tuf is used (never refreshed on this machine${newest ? `; its newest key dates from ${newest.toISOString().slice(0, 10)}, ${describeAge(newest, now)} ago` : ''}); run \`yarn tollgate trust update\` with network access to refresh it`,
        ],
      };
    },
    true,
  );
}

/** A policy's `{ tuf, root }` trust root. */
export async function resolveTufTrustRoot(request: TufTrustRootRequest): Promise<ResolvedTufTrustRoot> {
  return resolve(request, [TRUSTED_ROOT_TARGET], [SIGNING_CONFIG_TARGET], () => null);
}
