// What the gate needs of the policy before Yarn resolves anything, and all a warm install with a valid
// verdict needs: the configuration problems, the cache key, and the policy's summary (the few facts an
// install verdict depends on). Reading and validating the policy itself is configured-policy.ts, the
// policy compiler, loaded on demand: a Yarn command that is not an install never compiles it, and a
// warm install does not either when the summary of that exact policy text is remembered here.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Diagnostic } from '../../../policy/diagnostics';
import type { Policy } from '../../../policy/model';
import type { TollgateSettings } from '../settings';
import { TOLLGATE_VERSION } from '../version';
import { AuthenticatedStore } from './authenticated-store';
import { CacheSecretProblem, isInside, loadCacheSecret } from './cache-secret';

/** A configuration problem the user must fix; rendered as one clean Yarn error, never a stack trace. */
export class ConfigurationProblem extends Error {
  constructor(
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

export interface LoadedPolicy {
  policy: Policy;
  /** the policy path as shown to people: relative to the project root */
  file: string;
  warnings: Diagnostic[];
  /** the policy file's text, as it was read and validated */
  text: string;
}

/**
 * The cache folder and its key. A cache folder inside the project is refused: the repository (or a
 * restored CI cache of it) could fill it, and a cache is only worth keeping if it is this machine's.
 */
export function openCacheKey(settings: TollgateSettings): Buffer {
  if (isInside(settings.cacheFolder, settings.projectCwd)) {
    throw new ConfigurationProblem(
      `Tollgate's cache folder ${settings.cacheFolder} is inside the project, where the repository could fill it with verdicts of its own; set tollgateCacheFolder (or globalFolder) in .yarnrc.yml to a folder outside the project, e.g. the default <globalFolder>/tollgate`,
    );
  }
  try {
    return loadCacheSecret();
  } catch (err) {
    if (err instanceof CacheSecretProblem) throw new ConfigurationProblem(err.message);
    throw err;
  }
}

/**
 * Whether the policy text may name bases, which must be fetched before it is loaded. Most policies
 * extend nothing. A key spelled with escapes ("ext\u0065nds") is not seen here: its base is then not
 * fetched and the load reports it unavailable, which fails closed.
 */
export function mayExtend(text: string): boolean {
  return text.includes('extends');
}

/** What an install verdict depends on in the policy, besides the policy file's own bytes. */
export interface PolicySummary {
  /** a known-bad verdict service: its list changes without anything here changing */
  verdictService: boolean;
  /** every trust-root file and TUF root the policy names, absolute and sorted: their bytes key verdicts */
  trustRootFiles: string[];
  /** the files it was merged from, by digest (one entry, or none, when it extends nothing) */
  layers: Array<{ file: string; sha256: string }>;
}

export function summarizePolicy(policy: Policy, policyPath: string): PolicySummary {
  return {
    verdictService: policy.knownBad?.verdictService !== undefined,
    trustRootFiles: policy.trustRoots
      .flatMap((r) => [r.file, r.root])
      .filter((f): f is string => f !== undefined)
      .map((f) => resolve(dirname(policyPath), f))
      .sort(),
    layers: (policy.layers ?? []).map((l) => ({ file: l.file, sha256: l.sha256 })),
  };
}

function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * What the install verdict depends on besides the policy file itself: every base it was merged from
 * (by digest) and the trust-root files the bases declare.
 */
export function policyBaseInputs(summary: PolicySummary): Record<string, string> {
  if (summary.layers.length < 2) return {};
  const files = summary.trustRootFiles.map((path) => {
    try {
      return `${path} ${sha256(readFileSync(path))}`;
    } catch {
      return `${path} absent`;
    }
  });
  return { policyBases: JSON.stringify([summary.layers.map((l) => [l.file, l.sha256]), files]) };
}

const SUMMARY_FORMAT = 'tollgate-policy-summary-v1';

interface StoredSummary {
  format: typeof SUMMARY_FORMAT;
  key: string;
  summary: PolicySummary;
}

/**
 * Summaries of policies this machine's Tollgate validated, by the policy's path and exact text, in an
 * authenticated store: a planted or edited entry reads as absent. Only for a policy that extends
 * nothing, whose validity and summary follow from its text and path alone (the compiler reads nothing
 * else, not even the clock: an expired exception is a violation when packages are judged, not a load
 * error); a policy with bases is loaded in full every time, since its bases can change under it.
 */
export class PolicySummaries {
  private readonly store: AuthenticatedStore;

  constructor(cacheFolder: string, secret: Buffer) {
    this.store = new AuthenticatedStore(join(cacheFolder, 'policy-summaries'), secret);
  }

  private static key(policyPath: string, text: string): string {
    return sha256(`${SUMMARY_FORMAT}\0${TOLLGATE_VERSION}\0${policyPath}\0${text}`);
  }

  recall(policyPath: string, text: string): PolicySummary | null {
    const key = PolicySummaries.key(policyPath, text);
    const stored = this.store.read<StoredSummary>(key.slice(0, 32));
    if (stored?.format !== SUMMARY_FORMAT || stored.key !== key) return null;
    const s = stored.summary;
    if (
      typeof s?.verdictService !== 'boolean' ||
      !Array.isArray(s.trustRootFiles) ||
      !s.trustRootFiles.every((f) => typeof f === 'string') ||
      !Array.isArray(s.layers) ||
      s.layers.length > 1
    )
      return null;
    return s;
  }

  remember(policyPath: string, loaded: LoadedPolicy): void {
    const summary = summarizePolicy(loaded.policy, policyPath);
    if (summary.layers.length > 1 || mayExtend(loaded.text)) return;
    const key = PolicySummaries.key(policyPath, loaded.text);
    this.store.write(key.slice(0, 32), { format: SUMMARY_FORMAT, key, summary } satisfies StoredSummary);
  }
}
