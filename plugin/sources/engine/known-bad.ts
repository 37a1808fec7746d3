// The known-bad sources of one run, loaded once with the engine context: the database `yarn tollgate db
// update` imported (authenticated, see known-bad-store.ts), the project's committed
// `.tollgate.known-bad.yml` next to the policy, and the policy's verdict service. The pipeline asks it
// for the facts of one release (known-bad.ts is the only place matches are computed); what it says is
// evaluated by policy/ like every other fact.
import { createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { type Configuration, httpUtils } from '@yarnpkg/core';
import {
  digestOfIntegrity,
  type KnownBadList,
  type KnownBadSources,
  loadKnownBadList,
  matchRelease,
  registriesFor,
  VerdictError,
  verifyVerdict,
} from '../../../knownbad';
import { formatDiagnostic, normalizeRegistryUrl, type PackageFacts, type Policy } from '../../../policy';
import type { KnownBadGap, KnownBadMatch } from '../../../policy/decision';
import { formatDuration } from '../../../policy/duration';
import { npmPurl, type VerifiedBundle } from '../../../policy/evidence';
import { describeCause } from '../http-errors';
import type { TollgateSettings } from '../settings';
import { withTimeout } from './circuits';
import { KnownBadStore, type LoadedPart } from './known-bad-store';
import { listFilePath } from './verdict-inputs';

export class KnownBadProblem extends Error {
  constructor(
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

export type KnownBadFacts = Pick<PackageFacts, 'integrity' | 'knownBad' | 'knownBadUnchecked'>;

export interface Staleness {
  /** set once the policy gives a maxAge and the database is older (or absent) */
  stale: boolean;
  /** what to say about the database in one line */
  line: string;
  /** the gap every package gets under `stale: deny` */
  gap?: KnownBadGap;
  /** when the database turns stale (for caches of decisions) */
  staleAt?: Date;
}

export interface KnownBadContext {
  sources: KnownBadSources;
  parts: LoadedPart[];
  /** parts (or the whole state) that did not authenticate, and why */
  rejected: string[];
  /** the project's list file, relative to the project, when there is one */
  listFile?: string;
  staleness: Staleness;
  service?: { url: string; key: KeyObject };
  /** the facts of a release from the local sources (database and list) */
  facts(release: {
    name: string;
    version: string;
    registry?: string;
    integrity?: string;
    bundles?: readonly VerifiedBundle[];
  }): KnownBadFacts;
  /** asks the verdict service (once per release and run); nothing when none is configured */
  ask(name: string, version: string, integrity: string | undefined): Promise<KnownBadFacts>;
  /** verdict-service questions that failed, for one line in the report */
  serviceFailures: string[];
}

/** Yarn's built-in default registry: the public registry as Yarn names it, read from Yarn, never written here. */
export function yarnDefaultRegistries(configuration: Configuration): string[] {
  const setting = configuration.settings.get('npmRegistryServer') as { default?: unknown } | undefined;
  const normalized = typeof setting?.default === 'string' ? normalizeRegistryUrl(setting.default) : undefined;
  return normalized && 'url' in normalized ? [normalized.url] : [];
}

/** The project's list next to the policy, or undefined; an invalid one is a KnownBadProblem. */
export function loadProjectList(settings: TollgateSettings): KnownBadList | undefined {
  if (!settings.policyPath) return undefined;
  const path = listFilePath(settings.policyPath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KnownBadProblem(
      `the known-bad list ${path} cannot be read (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  const file = relative(settings.projectCwd, path) || path;
  const loaded = loadKnownBadList(text, file);
  if (!loaded.ok)
    throw new KnownBadProblem(
      `the known-bad list ${file} is invalid (${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'})`,
      loaded.errors.map(formatDiagnostic),
    );
  return loaded.list;
}

const ageOf = (asOf: string, now: Date) => formatDuration(Math.max(0, now.getTime() - Date.parse(asOf)));

export function describeDatabase(parts: readonly LoadedPart[], now: Date): string {
  if (parts.length === 0)
    return 'no known-bad database imported (`yarn tollgate db update --from <OSV zip | folder | URL>`)';
  const records = parts.reduce((n, p) => n + p.counts.records, 0);
  const oldest = parts.reduce((a, b) => (Date.parse(a.asOf) <= Date.parse(b.asOf) ? a : b));
  return `known-bad database: ${records.toLocaleString('en-US')} record(s) from ${parts.length} source(s), the oldest as of ${oldest.asOf} (${ageOf(oldest.asOf, now)} old, ${oldest.source})`;
}

/** How old the database is against the policy's `knownBad.maxAge`. */
export function stalenessOf(
  policy: Policy,
  parts: readonly LoadedPart[],
  rejected: readonly string[],
  now: Date,
): Staleness {
  const line = describeDatabase(parts, now);
  const maxAge = policy.knownBad?.maxAge;
  if (!maxAge) return { stale: false, line };
  const source = 'the known-bad database (yarn tollgate db status)';
  const deny = policy.knownBad?.stale === 'deny';
  if (parts.length === 0) {
    const why = rejected.length ? `none that authenticates (${rejected.join('; ')})` : 'none imported';
    return {
      stale: true,
      line: `the known-bad database is absent: ${why}; knownBad.maxAge is ${maxAge.text}; run \`yarn tollgate db update\``,
      ...(deny
        ? {
            gap: {
              code: 'DATABASE_ABSENT',
              message: `there is no known-bad database: ${why}; run \`yarn tollgate db update\``,
              source,
            },
          }
        : {}),
    };
  }
  const oldest = parts.reduce((a, b) => (Date.parse(a.asOf) <= Date.parse(b.asOf) ? a : b));
  const staleAt = new Date(Date.parse(oldest.asOf) + maxAge.ms);
  if (now.getTime() < staleAt.getTime()) return { stale: false, line, staleAt };
  const message = `the known-bad database from ${oldest.source} is ${ageOf(oldest.asOf, now)} old (as of ${oldest.asOf}), older than knownBad.maxAge ${maxAge.text}; run \`yarn tollgate db update\``;
  return {
    stale: true,
    line: message,
    staleAt,
    ...(deny ? { gap: { code: 'DATABASE_STALE', message, source } } : {}),
  };
}

function readServiceKey(policy: Policy, settings: TollgateSettings): KnownBadContext['service'] {
  const service = policy.knownBad?.verdictService;
  if (!service || !settings.policyPath) return undefined;
  const path = resolve(dirname(settings.policyPath), service.publicKey);
  try {
    return { url: service.url, key: createPublicKey(readFileSync(path, 'utf8')) };
  } catch (err) {
    throw new KnownBadProblem(
      `the verdict service's public key ${path} (knownBad.verdictService.publicKey in ${policy.file}) cannot be used: ${describeCause(err)}; copy it from the server (GET ${service.url}api/v1/verdict/public-key) after checking it out of band`,
    );
  }
}

export function openKnownBad(
  configuration: Configuration,
  settings: TollgateSettings,
  policy: Policy,
  cacheSecret: Buffer,
  now: Date,
  timeoutMs: number,
): KnownBadContext {
  const stored = new KnownBadStore(settings.cacheFolder, cacheSecret).load();
  const rejected = stored.rejected.map((r) => `${r.source}: ${r.why}`);
  if (!stored.authentic)
    rejected.push(
      `the database's state in ${settings.cacheFolder} does not authenticate with this user's cache key`,
    );
  const list = loadProjectList(settings);
  const sources: KnownBadSources = {
    indexes: stored.parts.map((p) => ({ index: p.index, label: p.source })),
    lists: list ? [list] : [],
  };
  const staleness = stalenessOf(policy, stored.parts, rejected, now);
  const service = readServiceKey(policy, settings);
  const defaultPublic = yarnDefaultRegistries(configuration);
  const answers = new Map<string, Promise<KnownBadFacts>>();
  const serviceFailures: string[] = [];

  const ask = async (
    name: string,
    version: string,
    integrity: string | undefined,
  ): Promise<KnownBadFacts> => {
    if (!service) return {};
    const purl = npmPurl(name, version);
    const digest = integrity ? digestOfIntegrity(integrity) : undefined;
    const nonce = randomBytes(12).toString('hex');
    const url = `${service.url}api/v1/verdict?purl=${encodeURIComponent(purl)}${digest ? `&digest=${encodeURIComponent(digest)}` : ''}&nonce=${nonce}`;
    const source = `the verdict service ${service.url}`;
    const gap = (code: string, message: string): KnownBadFacts => {
      if (serviceFailures.length < 5) serviceFailures.push(message);
      return { knownBadUnchecked: [{ code, message, source }] };
    };
    let body: unknown;
    try {
      body = await withTimeout(
        httpUtils.get(url, { configuration, jsonResponse: true }),
        timeoutMs,
        `the verdict for ${purl}`,
      );
    } catch (err) {
      return gap(
        'VERDICT_UNAVAILABLE',
        `${service.url} did not answer for ${name}@${version} (${describeCause(err)})`,
      );
    }
    let answer: ReturnType<typeof verifyVerdict>;
    try {
      answer = verifyVerdict(body, service.key, { purl, ...(digest ? { digest } : {}), nonce });
    } catch (err) {
      if (!(err instanceof VerdictError)) throw err;
      return gap(
        'VERDICT_UNVERIFIED',
        `the answer of ${service.url} for ${name}@${version} does not verify: ${err.message}`,
      );
    }
    if (answer.verdict !== 'no-go') return {};
    const matches: KnownBadMatch[] = answer.matches.length
      ? answer.matches.map((m) => ({ ...m, source: `${source}: ${m.source}` }))
      : [{ id: 'verdict-service', by: 'version', detail: 'the service answered no-go', source }];
    return { knownBad: matches };
  };

  return {
    sources,
    parts: stored.parts,
    rejected,
    ...(list ? { listFile: list.file } : {}),
    staleness,
    ...(service ? { service } : {}),
    serviceFailures,
    facts(release) {
      const facts: KnownBadFacts = {};
      if (release.integrity) facts.integrity = release.integrity;
      const registries = registriesFor(policy, release.name, release.registry, defaultPublic);
      const matches = matchRelease(sources, { ...release, registries }, now);
      if (matches.length) facts.knownBad = matches;
      if (staleness.gap) facts.knownBadUnchecked = [staleness.gap];
      return facts;
    },
    ask(name, version, integrity) {
      const key = `${name}@${version} ${integrity ?? ''}`;
      let answer = answers.get(key);
      if (!answer) {
        answer = ask(name, version, integrity);
        answers.set(key, answer);
      }
      return answer;
    },
  };
}

/** The facts of a release with the verdict service's answer added. */
export function withAnswer(facts: KnownBadFacts, answer: KnownBadFacts): KnownBadFacts {
  const out: KnownBadFacts = { ...facts };
  const knownBad = [...(facts.knownBad ?? []), ...(answer.knownBad ?? [])];
  const unchecked = [...(facts.knownBadUnchecked ?? []), ...(answer.knownBadUnchecked ?? [])];
  if (knownBad.length) out.knownBad = knownBad;
  if (unchecked.length) out.knownBadUnchecked = unchecked;
  return out;
}

/** The known-bad facts among a release's facts (a patch is judged on its base's). */
export function knownBadOf(facts: PackageFacts | undefined): KnownBadFacts {
  if (!facts) return {};
  const out: KnownBadFacts = {};
  if (facts.integrity) out.integrity = facts.integrity;
  if (facts.knownBad) out.knownBad = facts.knownBad;
  if (facts.knownBadUnchecked) out.knownBadUnchecked = facts.knownBadUnchecked;
  return out;
}

/** The lines a command prints about the known-bad sources: the database's age, what did not load. */
export function knownBadReport(
  ctx: Pick<KnownBadContext, 'parts' | 'rejected' | 'staleness' | 'listFile' | 'service' | 'serviceFailures'>,
  policy: Policy,
): Array<{ level: 'info' | 'warning'; line: string }> {
  const lines: Array<{ level: 'info' | 'warning'; line: string }> = [];
  const relevant = ctx.parts.length > 0 || ctx.listFile || ctx.service || policy.knownBad;
  if (!relevant && ctx.rejected.length === 0) return lines;
  lines.push({ level: ctx.staleness.stale ? 'warning' : 'info', line: `Tollgate: ${ctx.staleness.line}` });
  for (const why of ctx.rejected)
    lines.push({ level: 'warning', line: `Tollgate: known-bad database part not used: ${why}` });
  for (const failure of ctx.serviceFailures) lines.push({ level: 'warning', line: `Tollgate: ${failure}` });
  return lines;
}
