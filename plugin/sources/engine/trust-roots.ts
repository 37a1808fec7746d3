// The trust roots a command verifies with: public-good and every root the policy declares, files read
// as they are, TUF roots refreshed through the TUF cache under Tollgate's cache folder.
//
// Installs, audits and explanations never contact the public-good TUF repository: they use the copy
// `yarn tollgate trust update` last verified on this machine, or the one embedded in @sigstore/tuf,
// and say how old it is. A policy's `{ tuf, root }` roots are refreshed when their cached timestamp has
// expired (never when offline). `trust update` refreshes all of them online.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Policy, trustRootsToLoad } from '../../../policy';
import { PUBLIC_GOOD, type TrustRootSpec } from '../../../policy/evidence';
import type { TufNetworkMode } from '../../../policy/evidence/trust/tuf-client';
import { TufError } from '../../../policy/evidence/trust/tuf-error';
import {
  type ResolvedTufTrustRoot,
  resolvePublicGoodTrustRoot,
  resolveTufTrustRoot,
} from '../../../policy/evidence/trust/tuf-trust-root';
import type { TollgateSettings } from '../settings';

export interface LoadedTrustRoot {
  name: string;
  kind: 'public-good' | 'file' | 'tuf';
  /** for TUF roots: the refresh outcome */
  tuf?: ResolvedTufTrustRoot;
  /** where it came from, for people: a file, a TUF URL */
  origin: string;
}

export interface TrustRootsLoad {
  specs: TrustRootSpec[];
  /** npm registry keys documents to use instead of the embedded ones (a refreshed public-good) */
  npmKeys: string[] | null;
  roots: LoadedTrustRoot[];
  /** lines to show: stale copies, refused cache files */
  notices: string[];
}

/** A trust root that cannot be loaded: a configuration problem, named by its policy key. */
export class TrustRootProblem extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

function readFile(path: string, what: string, fix: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TrustRootProblem(
      code === 'ENOENT'
        ? `${what} ${path} does not exist; ${fix}`
        : `${what} ${path} cannot be read (${code})`,
      'TRUST_ROOT_FILE',
    );
  }
}

export async function loadTrustRootsFor(
  settings: TollgateSettings,
  policy: Policy,
  policyFile: string,
  secret: Buffer,
  options: {
    /** 'online' for `trust update`; installs use 'auto' (or 'offline' when offline) */
    mode: TufNetworkMode;
    /** public-good is refreshed online only by `trust update` */
    refreshPublicGood?: boolean;
    now?: Date;
  },
): Promise<TrustRootsLoad> {
  const now = options.now ?? new Date();
  const common = {
    cacheRoot: settings.cacheFolder,
    secret,
    timeoutMs: settings.networkTimeoutMs,
    now,
  };
  const roots: LoadedTrustRoot[] = [];
  const notices: string[] = [];
  const specs: TrustRootSpec[] = [];
  const tufFailure = (name: string, key: string, err: unknown): never => {
    if (err instanceof TufError)
      throw new TrustRootProblem(`trust root "${name}" (${key} in ${policyFile}): ${err.message}`, err.code);
    throw err;
  };

  const publicGoodUrl = settings.publicGoodTufUrl ?? undefined;
  let publicGood: ResolvedTufTrustRoot;
  try {
    publicGood = await resolvePublicGoodTrustRoot({
      ...common,
      ...(publicGoodUrl ? { metadataUrl: publicGoodUrl } : {}),
      mode: options.refreshPublicGood && !settings.offline ? 'online' : 'offline',
    });
  } catch (err) {
    return tufFailure(PUBLIC_GOOD, 'the built-in root', err);
  }
  specs.push({ name: PUBLIC_GOOD, trustedRootJson: publicGood.spec.trustedRootJson });
  roots.push({
    name: PUBLIC_GOOD,
    kind: 'public-good',
    tuf: publicGood,
    origin: publicGoodUrl ?? 'the public-good TUF repository',
  });
  notices.push(...publicGood.notices);

  for (const root of trustRootsToLoad(policy)) {
    const base = dirname(settings.policyPath ?? join(settings.projectCwd, policyFile));
    if (root.tuf !== undefined && root.root !== undefined) {
      const anchorPath = resolve(base, root.root);
      const anchor = readFile(
        anchorPath,
        `the TUF root.json of trust root "${root.name}"`,
        `fix trustRoots.${root.name}.root in ${policyFile} (commit the repository's root.json, e.g. from ${root.tuf.replace(/\/+$/, '')}/1.root.json after checking it with its operator)`,
      );
      let resolved: ResolvedTufTrustRoot;
      try {
        resolved = await resolveTufTrustRoot({
          ...common,
          name: root.name,
          metadataUrl: root.tuf,
          anchorRoot: anchor,
          mode: settings.offline ? 'offline' : options.mode,
        });
      } catch (err) {
        return tufFailure(root.name, `trustRoots.${root.name}.tuf`, err);
      }
      specs.push(resolved.spec);
      roots.push({ name: root.name, kind: 'tuf', tuf: resolved, origin: root.tuf });
      notices.push(...resolved.notices);
      continue;
    }
    const path = resolve(base, root.file!);
    const text = readFile(
      path,
      `the trusted root "${root.name}"`,
      `fix trustRoots.${root.name} in ${policyFile}`,
    );
    specs.push({ name: root.name, trustedRootJson: text.toString('utf8') });
    roots.push({ name: root.name, kind: 'file', origin: path });
  }
  return {
    specs,
    npmKeys: publicGood.npmKeys && publicGood.from !== 'embedded' ? [publicGood.npmKeys] : null,
    roots,
    notices,
  };
}

/** The lines a command prints about its trust roots: only when a copy may be stale or files were refused. */
export function trustReport(load: TrustRootsLoad): Array<{ level: 'info' | 'warning'; line: string }> {
  return load.notices.map((line) => ({
    level: /was refused|were refused|verified \d+ days ago/.test(line) ? 'warning' : 'info',
    line: `Tollgate: ${line}`,
  }));
}
