// The engine: loads a configuration and its trust material once, then runs the sources (registries,
// then logs, then witnesses), records what they found in the state with the progress that found it,
// delivers pending notifications, and reports. `tollgate-monitor` and `yarn tollgate monitor` are
// thin front ends over openMonitor() and Monitor.run().
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { TrustMaterial } from '@sigstore/verify';
import { formatDiagnostic } from '../policy/diagnostics';
// Modules rather than policy/evidence's index: the index brings the worker pool, which a bundled
// executable cannot use (it needs import.meta) and the monitor does not need.
import { loadTrustRoots, type TrustContext, type TrustRootSpec } from '../policy/evidence/trust/context';
import { trustRootsToLoad } from '../policy/index';
import { loadPolicy } from '../policy/load';
import type { Policy } from '../policy/model';
import { PUBLIC_GOOD, parseMonitorConfig } from './config/load';
import type { LogConfig, MonitorConfig } from './config/model';
import { describeError, MonitorUsageError, SourceError, type SourceProblem } from './errors';
import { ExpectedReleases } from './expected/expected-releases';
import type { ExpectedEvent, Finding, SubjectSummary } from './findings';
import { HttpClient } from './http/client';
import type { LogKey } from './log/checkpoint';
import { sha256Hex } from './log/entry';
import { type LogRunResult, monitorLog, type SigningEvent } from './log/log-monitor';
import { RekorClient } from './log/rekor-client';
import { IdentityMatcher, summarizeIdentity } from './log/watched-identities';
import { deliverFinding } from './notify/webhook';
import { indexPackageState, indexRemainingAttestations, monitorPackage } from './registry/package-monitor';
import { type Packument, RegistryReader } from './registry/registry-reader';
import { type NamedSubject, SubjectIndex, statementSubjects } from './registry/subjects';
import {
  type DeliveryResult,
  exitCodeOf,
  type LogSummary,
  type ObservedFinding,
  type RunReport,
} from './report';
import { type MonitorState, packageKey, readState, writeState, writeStateAsync } from './state/state';
import { compareWithWitnesses } from './witness/gossip';

export interface MonitorOptions {
  /** the state file; overrides the configuration's */
  statePath?: string;
  /** entries per verified segment of a log (progress is saved after each); default 65,536 */
  segmentSize?: number;
  /** deliver webhooks (default true when one is configured) */
  webhook?: boolean;
  env?: NodeJS.ProcessEnv;
  /** the working directory file names are shown relative to */
  cwd?: string;
}

interface PreparedLog {
  config: LogConfig;
  keys: readonly LogKey[];
  material: TrustMaterial;
  client: RekorClient;
  http: HttpClient;
}

function readConfigText(path: string, display: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MonitorUsageError(
      'CONFIG_UNREADABLE',
      code === 'ENOENT'
        ? `the configuration ${display} does not exist; write one (see monitor/README.md) or pass --config`
        : `the configuration ${display} cannot be read (${code})`,
    );
  }
}

function loadLogTrust(
  config: MonitorConfig,
  log: LogConfig,
): { keys: readonly LogKey[]; material: TrustMaterial } {
  const where = `${config.file}:${log.location.line}:${log.location.column}`;
  let spec: TrustRootSpec;
  if (log.trustedRoot === PUBLIC_GOOD) spec = { name: PUBLIC_GOOD };
  else {
    let text: string;
    try {
      text = readFileSync(log.trustedRoot, 'utf8');
    } catch (err) {
      throw new MonitorUsageError(
        'TRUST_ROOT_INVALID',
        `${where}: logs[${log.name}].trustedRoot ${log.trustedRootDisplay} cannot be read (${(err as NodeJS.ErrnoException).code}); save the log's trusted_root.json there (fetch it once from a source you trust, never on every run)`,
      );
    }
    spec = { name: log.name, trustedRootJson: text };
  }
  try {
    const root = loadTrustRoots([spec], { embeddedNpmKeys: false }).roots[0]!;
    return { keys: root.material.tlogs, material: root.material };
  } catch (err) {
    throw new MonitorUsageError(
      'TRUST_ROOT_INVALID',
      `${where}: logs[${log.name}].trustedRoot ${log.trustedRootDisplay}: ${describeError(err)}`,
    );
  }
}

function loadProjectPolicy(config: MonitorConfig): { policy: Policy; trust: TrustContext } | undefined {
  if (!config.policyPath) return undefined;
  const display = config.policyDisplay ?? config.policyPath;
  let text: string;
  try {
    text = readFileSync(config.policyPath, 'utf8');
  } catch (err) {
    throw new MonitorUsageError(
      'POLICY_INVALID',
      `the policy ${display} named in ${config.file} cannot be read (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  const loaded = loadPolicy(text, display, { now: new Date() });
  if (!loaded.ok)
    throw new MonitorUsageError(
      'POLICY_INVALID',
      `the policy ${display} is invalid`,
      loaded.errors.map(formatDiagnostic),
    );
  const specs: TrustRootSpec[] = [{ name: PUBLIC_GOOD }];
  for (const root of trustRootsToLoad(loaded.policy)) {
    const path = resolve(dirname(config.policyPath), root.file!);
    try {
      specs.push({ name: root.name, trustedRootJson: readFileSync(path, 'utf8') });
    } catch (err) {
      throw new MonitorUsageError(
        'POLICY_INVALID',
        `the trusted root "${root.name}" of ${display} (${root.file}) cannot be read (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  }
  try {
    return { policy: loaded.policy, trust: loadTrustRoots(specs) };
  } catch (err) {
    throw new MonitorUsageError(
      'POLICY_INVALID',
      `a trusted root of ${display} cannot be used: ${describeError(err)}`,
    );
  }
}

export class Monitor {
  private readonly logs: PreparedLog[];
  private readonly http = new HttpClient({ maxSockets: 16 });
  private readonly reader = new RegistryReader(this.http);
  private readonly matcher: IdentityMatcher;
  private readonly expectations: ExpectedReleases;
  private readonly statePath: string;

  constructor(
    readonly config: MonitorConfig,
    private readonly project: { policy: Policy; trust: TrustContext } | undefined,
    private readonly options: MonitorOptions,
  ) {
    this.statePath = options.statePath
      ? resolve(options.cwd ?? process.cwd(), options.statePath)
      : config.statePath;
    this.matcher = new IdentityMatcher(config.identities);
    this.expectations = new ExpectedReleases(config, project?.policy);
    this.logs = config.logs.map((log) => {
      const http = new HttpClient({ maxSockets: log.concurrency });
      return {
        config: log,
        ...loadLogTrust(config, log),
        http,
        client: new RekorClient(log.url, http, {
          batchRead: log.batchRead,
          batchSize: log.batchSize,
          concurrency: log.concurrency,
        }),
      };
    });
  }

  get stateFile(): string {
    return this.statePath;
  }

  readState(): MonitorState {
    return readState(this.statePath);
  }

  /** The verified checkpoints this monitor holds, for other observers (`tollgate-monitor checkpoints`). */
  checkpoints(): { checkpoints: string[] } {
    const state = this.readState();
    return { checkpoints: Object.values(state.logs).map((log) => log.checkpoint.note) };
  }

  async run(): Promise<RunReport> {
    const startedAt = new Date();
    const state = this.readState();
    this.expectations.refresh();
    const report: RunReport = {
      config: this.config.file,
      startedAt: startedAt.toISOString(),
      finishedAt: '',
      findings: [],
      expected: [],
      problems: [],
      notes: [],
      logs: [],
      deliveries: [],
      exitCode: 0,
    };
    const save = () => {
      state.updatedAt = new Date().toISOString();
      writeState(this.statePath, state);
    };
    const observe = (finding: Finding) => {
      const known = state.findings[finding.id];
      if (!known) {
        state.findings[finding.id] = {
          finding,
          firstSeenAt: new Date().toISOString(),
          ...(this.config.webhook && this.options.webhook !== false
            ? { delivery: { status: 'pending', attempts: 0 } }
            : {}),
        };
      }
      const observed: ObservedFinding = { ...finding, isNew: !known };
      if (!report.findings.some((f) => f.id === finding.id)) report.findings.push(observed);
    };

    // 1. Registries: new versions judged; attestation payloads learnt (they name log entries).
    const index = new SubjectIndex();
    for (const pkg of Object.values(state.packages)) indexPackageState(index, pkg);
    const packuments = new Map<string, Packument>();
    const judge = this.project ? { ...this.project, reader: this.reader, now: startedAt } : undefined;
    for (const pkg of this.config.packages) {
      const key = packageKey(pkg.registry, pkg.name);
      const result = await monitorPackage({
        pkg,
        reader: this.reader,
        previous: state.packages[key],
        judge,
        index,
        now: startedAt,
      });
      state.packages[key] = result.state;
      if (result.packument) packuments.set(key, result.packument);
      result.findings.forEach(observe);
      report.problems.push(...result.problems);
      report.notes.push(...result.notes);
    }
    if (this.config.packages.length) save();

    // 2. Logs: signing events by watched identities, checked against the expected releases.
    let attestationsIndexed = false;
    const nameSubjects = async (event: SigningEvent): Promise<NamedSubject[]> => {
      const body = event.body;
      if (body.payloadHash) {
        if (event.attestation && sha256Hex(event.attestation) === body.payloadHash) {
          const subjects = statementSubjects(event.attestation, 'the attestation stored by the log');
          if (subjects) return subjects;
        }
        let subjects = index.payload(body.payloadHash);
        if (!subjects && !attestationsIndexed) {
          attestationsIndexed = true;
          for (const pkg of this.config.packages) {
            const key = packageKey(pkg.registry, pkg.name);
            const pkgState = state.packages[key];
            const packument = packuments.get(key);
            if (!pkgState || !packument) continue;
            report.problems.push(
              ...(await indexRemainingAttestations({
                pkg,
                reader: this.reader,
                state: pkgState,
                packument,
                index,
              })),
            );
          }
          subjects = index.payload(body.payloadHash);
        }
        return subjects ?? [];
      }
      if (body.artifactDigest) {
        const subject = index.artifact(body.artifactDigest.algorithm, body.artifactDigest.value);
        return subject ? [subject] : [];
      }
      return [];
    };
    const classify = async (event: SigningEvent) => {
      const identity = summarizeIdentity(event.identity);
      const time = new Date(event.integratedTime * 1000).toISOString();
      const where = `log ${event.log.name}, index ${event.logIndex}, ${time}`;
      if (!event.trustedCa) {
        report.notes.push(
          `${where}: a certificate claiming ${identity.subject} (watched as ${event.watched.join(', ')}) was not issued by a CA of the log's trusted root; ignored, since anyone can log a self-made certificate`,
        );
        return;
      }
      const subjects = await nameSubjects(event);
      const digests = [
        ...(event.body.payloadHash ? [`sha256:${event.body.payloadHash}`] : []),
        ...(event.body.artifactDigest
          ? [`${event.body.artifactDigest.algorithm}:${event.body.artifactDigest.value}`]
          : []),
      ];
      const facts = { identity: event.identity, digests };
      const reasons: string[] = [];
      let expected = true;
      if (subjects.length === 0) {
        const verdict = await this.expectations.check(undefined, facts);
        expected = verdict.expected;
        reasons.push(
          ...(verdict.expected
            ? verdict.reasons
            : [
                event.body.payloadHash
                  ? `the log records only the payload's hash (sha256:${event.body.payloadHash}), and no attestation of a watched package has that payload`
                  : `the signed artifact (${digests.join(', ') || `a ${event.body.kind} entry`}) is no known version of a watched package`,
              ]),
        );
      }
      for (const subject of subjects) {
        if (!subject.package) {
          expected = false;
          reasons.push(`subject ${subject.name} is not an npm package`);
          continue;
        }
        const verdict = await this.expectations.check(subject.package, facts);
        if (!verdict.expected) expected = false;
        reasons.push(...verdict.reasons);
      }
      const subjectNames = subjects.map((s) => s.name).join(', ') || 'an unnamed subject';
      if (expected) {
        const event_: ExpectedEvent = {
          summary: `${where}: ${identity.subject} signed ${subjectNames}, as expected (${reasons.join('; ')})`,
          log: event.log.name,
          logIndex: event.logIndex,
        };
        report.expected.push(event_);
        return;
      }
      const subjectSummaries: SubjectSummary[] = subjects.map(({ name, digest, from }) => ({
        name,
        digest,
        from,
      }));
      observe({
        id: `unexpected-signing/${event.log.logId}/${event.logIndex}/${identity.subject}`,
        kind: 'unexpected-signing',
        summary: `${identity.subject} signed ${subjectNames} at ${time} (log ${event.log.name}, index ${event.logIndex}), and no expected release accounts for it`,
        details: [
          ...reasons.map((r) => `not expected: ${r}`),
          'If nobody you know released this, treat the identity as compromised: revoke its tokens and sessions, check the release workflow, and deprecate what it signed.',
        ],
        log: event.log,
        entry: {
          logIndex: event.logIndex,
          uuid: event.uuid,
          integratedTime: time,
          timeVerified: event.timeVerified,
          kind: event.body.kind,
        },
        identity: { ...identity, watched: event.watched },
        subjects: subjectSummaries,
      });
    };

    for (const log of this.logs) {
      const previous = state.logs[log.config.name];
      let result: LogRunResult;
      try {
        result = await monitorLog({
          config: log.config,
          client: log.client,
          keys: log.keys,
          material: log.material,
          matcher: this.matcher,
          ...(previous ? { previous } : {}),
          now: () => new Date(),
          segmentSize: this.options.segmentSize ?? 65_536,
          onSegment: async (progress, events) => {
            for (const event of events) await classify(event);
            state.logs[log.config.name] = progress;
            state.updatedAt = new Date().toISOString();
            await writeStateAsync(this.statePath, state);
          },
        });
      } catch (err) {
        if (!(err instanceof SourceError)) throw err;
        report.problems.push({ code: err.code, source: `log ${log.config.name}`, message: err.message });
        continue;
      }
      state.logs[log.config.name] = result.state;
      result.findings.forEach(observe);
      if (result.note) report.notes.push(result.note);
      const summary: LogSummary = {
        name: log.config.name,
        url: log.config.url,
        checkpointSize: result.state.checkpoint.size,
        verifiedSize: result.state.verifiedSize,
        entriesRead: result.stats.entries,
        requests: result.stats.requests,
        certificatesParsed: result.stats.certificatesParsed,
        seconds: result.stats.seconds,
        readMode: result.stats.mode,
        halted: result.state.haltedBy !== undefined,
      };
      report.logs.push(summary);
      save();
    }
    for (const failed of this.expectations.unavailable) {
      report.problems.push({ code: 'RELEASES_UNAVAILABLE', source: failed.source, message: failed.message });
    }

    // 3. Witnesses: the same log as other observers saw it.
    if (this.config.witnesses.length) {
      const witnessed = this.logs.flatMap((log) => {
        const logState = state.logs[log.config.name];
        return logState
          ? [
              {
                name: log.config.name,
                url: log.config.url,
                state: logState,
                keys: log.keys,
                client: log.client,
              },
            ]
          : [];
      });
      const gossip = await compareWithWitnesses({
        witnesses: this.config.witnesses,
        logs: witnessed,
        http: this.http,
      });
      gossip.findings.forEach(observe);
      report.problems.push(...gossip.problems);
      report.notes.push(
        `compared ${gossip.compared} checkpoint(s) from ${this.config.witnesses.length} witness(es)`,
      );
      save();
    }

    // 4. Notifications: every finding not yet delivered (this run's and earlier runs' failures).
    report.deliveries = await this.deliver(state, save, report.problems);
    report.finishedAt = new Date().toISOString();
    report.exitCode = exitCodeOf(report);
    return report;
  }

  private async deliver(
    state: MonitorState,
    save: () => void,
    problems: SourceProblem[],
  ): Promise<DeliveryResult[]> {
    const hook = this.config.webhook;
    if (!hook || this.options.webhook === false) return [];
    const results: DeliveryResult[] = [];
    for (const record of Object.values(state.findings)) {
      if (!record.delivery || record.delivery.status === 'delivered') continue;
      const result = await deliverFinding(this.http, hook, record.finding, {
        config: this.config.file,
        env: this.options.env ?? process.env,
      });
      const at = new Date().toISOString();
      record.delivery = {
        status: result.status,
        attempts: record.delivery.attempts + result.attempts,
        lastAttemptAt: at,
        ...(result.status === 'delivered' ? { deliveredAt: at } : {}),
        ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
        ...(result.error !== undefined ? { error: result.error } : {}),
      };
      // Saved after each delivery: a restart never delivers twice what was acknowledged.
      save();
      results.push(result);
      if (result.status === 'failed') {
        problems.push({
          code: 'WEBHOOK_FAILED',
          source: hook.url,
          message: `${record.finding.id}: ${result.error}`,
        });
      }
    }
    return results;
  }

  close(): void {
    this.http.close();
    for (const log of this.logs) log.http.close();
  }
}

/** Loads the configuration, its trust roots and the project's policy; throws MonitorUsageError. */
export function openMonitor(configPath: string, options: MonitorOptions = {}): Monitor {
  const cwd = options.cwd ?? process.cwd();
  const absolute = resolve(cwd, configPath);
  const display = relative(cwd, absolute) || absolute;
  const loaded = parseMonitorConfig(readConfigText(absolute, display), display, absolute);
  if (!loaded.ok) {
    throw new MonitorUsageError(
      'CONFIG_INVALID',
      `the configuration ${display} is invalid (${loaded.errors.length} error${loaded.errors.length === 1 ? '' : 's'})`,
      loaded.errors.map(formatDiagnostic),
    );
  }
  return new Monitor(loaded.config, loadProjectPolicy(loaded.config), options);
}
