// Loading a monitor configuration: YAML with locations -> JSON Schema (ajv, did-you-mean) -> compile
// (what a schema cannot say: anchored patterns, tag templates, unique names, references between
// sections). The same helpers as the policy, so errors look and locate the same way. Never throws:
// any text yields a configuration or located errors.
import { dirname, resolve } from 'node:path';
import {
  type Diagnostic,
  formatField,
  internalError,
  type PathSegment,
  sortDiagnostics,
} from '../../policy/diagnostics';
import {
  compilePattern,
  isPatternProblem,
  type PatternSpec,
  type StringPattern,
} from '../../policy/patterns';
import { normalizeRegistryUrl } from '../../policy/registry-url';
import { normalizeRepository } from '../../policy/repository';
import { compileSchema } from '../../policy/schema-compile';
import { validateAgainstSchema } from '../../policy/schema-validation';
import { type ParsedSource, parseYamlSource } from '../../policy/source';
import { tagTemplateProblem } from '../../policy/tag-template';
import { parseDurationMs } from '../duration';
import {
  DEFAULT_STATE_FILE,
  type LogConfig,
  type MonitorConfig,
  type PackageConfig,
  type ReleaseSource,
  type WatchedIdentity,
  type WebhookConfig,
  type WitnessConfig,
} from './model';
import monitorSchema from './schema/tollgate-monitor.schema.json';

export type ConfigLoadResult = { ok: true; config: MonitorConfig } | { ok: false; errors: Diagnostic[] };

export const PUBLIC_GOOD = 'public-good';
const DEFAULT_TAG = 'v$' + '{version}';

let validateConfig: ReturnType<typeof compileSchema> | undefined;

// biome-ignore lint/suspicious/noExplicitAny: schema-valid YAML data, read field by field
type Raw = Record<string, any>;

/**
 * @param text the configuration file's text
 * @param file the file as shown in messages
 * @param path the file's absolute path (relative paths inside it are resolved from its folder)
 */
export function parseMonitorConfig(
  text: string,
  file: string,
  path: string = resolve(file),
): ConfigLoadResult {
  try {
    const source = parseYamlSource(text, file);
    if (source.errors.length) return { ok: false, errors: sortDiagnostics(source.errors) };
    if (source.data === undefined || source.data === null) {
      return {
        ok: false,
        errors: [
          {
            file,
            line: 1,
            column: 1,
            code: 'missing-key',
            severity: 'error',
            field: '(document)',
            message: 'the configuration is empty',
            expected: 'a mapping with version: 1, logs, identities and packages',
            suggestion: 'start from the example in monitor/README.md',
          },
        ],
      };
    }
    validateConfig ??= compileSchema(monitorSchema);
    const schemaErrors = validateAgainstSchema(validateConfig, source);
    if (schemaErrors.length) return { ok: false, errors: sortDiagnostics(schemaErrors) };
    return compile(source, dirname(path));
  } catch (err) {
    return {
      ok: false,
      errors: [internalError(file, 'internal error while reading the configuration', err)],
    };
  }
}

function compile(source: ParsedSource, dir: string): ConfigLoadResult {
  const data = source.data as Raw;
  const errors: Diagnostic[] = [];
  const error = (path: PathSegment[], code: string, message: string, extra: Partial<Diagnostic> = {}) => {
    errors.push({
      ...source.locate(path),
      code,
      severity: 'error',
      field: formatField(path),
      message,
      ...extra,
    });
  };
  const unique = (section: string, items: Raw[] | undefined, key: (item: Raw) => string) => {
    const seen = new Map<string, number>();
    (items ?? []).forEach((item, i) => {
      const k = key(item);
      const first = seen.get(k);
      if (first !== undefined) {
        error([section, i], 'duplicate-name', `${section}[${i}] repeats ${section}[${first}] (${k})`, {
          suggestion: 'give each entry its own name, or merge them',
        });
      } else seen.set(k, i);
    });
  };
  const pattern = (path: PathSegment[], spec: PatternSpec | undefined): StringPattern | undefined => {
    if (spec === undefined) return undefined;
    const compiled = compilePattern(spec);
    if (!isPatternProblem(compiled)) return compiled;
    error(path, compiled.code, compiled.message, {
      found: JSON.stringify(spec),
      suggestion: compiled.suggestion,
    });
    return undefined;
  };

  unique('logs', data['logs'], (l) => String(l['name']));
  unique('identities', data['identities'], (l) => String(l['name']));
  unique('witnesses', data['witnesses'], (l) => String(l['name']));
  unique('packages', data['packages'], (p) => `${p['name']} from ${p['registry']}`);

  const logs: LogConfig[] = (data['logs'] ?? []).map((raw: Raw, i: number): LogConfig => {
    const trustedRoot = String(raw['trustedRoot']);
    return {
      name: raw['name'],
      url: String(raw['url']).replace(/\/+$/, ''),
      trustedRoot: trustedRoot === PUBLIC_GOOD ? PUBLIC_GOOD : resolve(dir, trustedRoot),
      trustedRootDisplay: trustedRoot,
      start: raw['start'] ?? 'latest',
      batchRead: raw['batchRead'] ?? 'auto',
      ...(raw['batchSize'] !== undefined ? { batchSize: raw['batchSize'] } : {}),
      concurrency: raw['concurrency'] ?? 8,
      location: source.locate(['logs', i]),
    };
  });

  const identities: WatchedIdentity[] = (data['identities'] ?? []).map((raw: Raw, i: number) => {
    const at = (field: string): PathSegment[] => ['identities', i, field];
    if (raw['email'] !== undefined && raw['subject'] !== undefined) {
      error(at('email'), 'conflicting-keys', 'give either email or subject, not both', {
        suggestion: 'email: x is the same as subject: x',
      });
    }
    const narrowing = ['subject', 'email', 'repository', 'repositoryId', 'ownerId'].filter(
      (k) => raw[k] !== undefined,
    );
    if (narrowing.length === 0) {
      error(
        ['identities', i],
        'identity-too-broad',
        `identity "${raw['name']}" names no subject, email, repository or id`,
        {
          expected: 'at least one of subject, email, repository, repositoryId, ownerId',
          suggestion: "an issuer, workflow or ref alone matches other people's signatures too",
        },
      );
    }
    let repository: string | undefined;
    if (raw['repository'] !== undefined) {
      repository = normalizeRepository(String(raw['repository']));
      if (!repository) {
        error(at('repository'), 'invalid-value', 'not a repository', {
          found: JSON.stringify(raw['repository']),
          expected: 'host/owner/name, e.g. github.com/acme/ui',
        });
      }
    }
    const subject = pattern(
      at(raw['email'] !== undefined ? 'email' : 'subject'),
      raw['email'] ?? raw['subject'],
    );
    const identity: WatchedIdentity = {
      name: raw['name'],
      location: source.locate(['identities', i]),
    };
    if (raw['issuer'] !== undefined) identity.issuer = raw['issuer'];
    if (subject) identity.subject = subject;
    if (repository) identity.repository = repository;
    if (raw['repositoryId'] !== undefined) identity.repositoryId = String(raw['repositoryId']);
    if (raw['ownerId'] !== undefined) identity.ownerId = String(raw['ownerId']);
    const workflow = pattern(at('workflow'), raw['workflow']);
    if (workflow) identity.workflow = workflow;
    const ref = pattern(at('ref'), raw['ref']);
    if (ref) identity.ref = ref;
    const needle = needleOf(identity);
    if (needle) identity.needle = needle;
    return identity;
  });

  const policyPath = data['policy'] === undefined ? undefined : resolve(dir, data['policy']);
  const packages: PackageConfig[] = (data['packages'] ?? []).map((raw: Raw, i: number) => {
    const normalized = normalizeRegistryUrl(String(raw['registry']));
    if (!('url' in normalized)) {
      error(['packages', i, 'registry'], 'invalid-value', `registry URL: ${normalized.problem}`, {
        suggestion: normalized.suggestion,
      });
    }
    if (raw['judge'] === true && policyPath === undefined) {
      error(['packages', i, 'judge'], 'policy-required', "judging new versions needs the project's policy", {
        suggestion: 'add policy: .tollgate.yml at the top of this file',
      });
    }
    const releases: ReleaseSource[] = (raw['releases'] ?? []).map(
      (release: Raw, j: number): ReleaseSource => {
        const path: PathSegment[] = ['packages', i, 'releases', j];
        const location = source.locate(path);
        if (release['gitTags']) {
          const tag = release['gitTags']['tag'] ?? DEFAULT_TAG;
          const problem = tagTemplateProblem(tag);
          if (problem)
            error([...path, 'gitTags', 'tag'], 'tag-template-invalid', problem.message, problem.extra);
          const repository = String(release['gitTags']['repository']);
          // A URL stays as written; anything else is a local repository, relative to this file.
          const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(repository) || /^[^/]+@[^:]+:/.test(repository);
          return {
            kind: 'git-tags',
            repository: isUrl ? repository : resolve(dir, repository),
            tag,
            location,
          };
        }
        if (release['file'] !== undefined) {
          return { kind: 'file', path: resolve(dir, release['file']), display: release['file'], location };
        }
        if (policyPath === undefined) {
          error(
            [...path, 'policy'],
            'policy-required',
            "releases from the policy need the project's policy",
            {
              suggestion: 'add policy: .tollgate.yml at the top of this file',
            },
          );
        }
        return { kind: 'policy', location };
      },
    );
    return {
      name: raw['name'],
      registry: 'url' in normalized ? normalized.url : String(raw['registry']),
      attestationStores: (raw['attestationStores'] ?? []).map((u: string) => u.replace(/\/+$/, '')),
      judge: raw['judge'] ?? policyPath !== undefined,
      releases,
      location: source.locate(['packages', i]),
    };
  });

  const witnesses: WitnessConfig[] = (data['witnesses'] ?? []).map((raw: Raw, i: number): WitnessConfig => {
    const location = source.locate(['witnesses', i]);
    if (raw['file'] !== undefined)
      return {
        name: raw['name'],
        kind: 'file',
        path: resolve(dir, raw['file']),
        display: raw['file'],
        location,
      };
    return { name: raw['name'], kind: 'url', url: raw['url'], location };
  });

  let webhook: WebhookConfig | undefined;
  const rawHook = data['notify']?.['webhook'];
  if (rawHook) {
    webhook = {
      url: rawHook['url'],
      attempts: rawHook['attempts'] ?? 5,
      backoffMs: parseDurationMs(rawHook['backoff'] ?? '1s')!,
      timeoutMs: parseDurationMs(rawHook['timeout'] ?? '10s')!,
      location: source.locate(['notify', 'webhook']),
    };
    if (rawHook['tokenEnv'] !== undefined) webhook.tokenEnv = rawHook['tokenEnv'];
  }

  if (logs.length > 0 && identities.length === 0) {
    error(
      ['logs'],
      'identities-required',
      'logs are read to find signing events by watched identities, and none is listed',
      {
        suggestion: 'add identities: [{ name: ..., email: ... }], or remove logs',
      },
    );
  }
  if (identities.length > 0 && logs.length === 0) {
    error(
      ['identities'],
      'logs-required',
      'identities are watched in transparency logs, and none is listed',
      {
        suggestion: 'add logs: [{ name: ..., url: ..., trustedRoot: ... }]',
      },
    );
  }
  if (logs.length === 0 && packages.length === 0) {
    error([], 'nothing-to-watch', 'the configuration watches nothing', {
      expected: 'logs with identities, or packages',
      suggestion: 'start from the example in monitor/README.md',
    });
  }

  if (errors.length) return { ok: false, errors: sortDiagnostics(errors) };
  const config: MonitorConfig = {
    file: source.file,
    dir,
    statePath: resolve(dir, data['state'] ?? DEFAULT_STATE_FILE),
    logs,
    identities,
    packages,
    witnesses,
  };
  if (policyPath !== undefined) {
    config.policyPath = policyPath;
    config.policyDisplay = data['policy'];
  }
  if (webhook) config.webhook = webhook;
  return { ok: true, config };
}

/** The longest literal that must appear verbatim in a matching certificate's DER (see WatchedIdentity). */
function needleOf(identity: WatchedIdentity): Buffer | undefined {
  const candidates: string[] = [];
  const subject = identity.subject;
  if (subject?.kind === 'exact') candidates.push(subject.source);
  if (subject?.kind === 'glob') candidates.push(...subject.source.split(/[*?]+/));
  // The certificate carries the repository as a URI (or, in legacy claims, as owner/name).
  if (identity.repository) candidates.push(identity.repository.split('/').slice(1).join('/'));
  if (identity.repositoryId) candidates.push(identity.repositoryId);
  if (identity.ownerId) candidates.push(identity.ownerId);
  const longest = candidates.reduce((a, b) => (b.length > a.length ? b : a), '');
  return longest.length >= 3 ? Buffer.from(longest, 'utf8') : undefined;
}
