// When one thing is wrong for many packages (a store that does not answer, offline without the
// evidence file, a trust root a rule does not allow), the text report says that thing once, with the
// setting or file to fix, and lists the packages it affects, instead of one identical block per
// package. Machine outputs (--json, SARIF) keep every package's full decision.

import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { type Decision, type Reason, violations } from '../../policy/decision';
import type { OpenCircuit } from './engine/circuits';
import { originOf } from './engine/circuits';
import type { EngineContext } from './engine/context';
import { configuredRegistries } from './engine/registries';

export interface CauseContext {
  offline: boolean;
  /** the evidence file as shown to people, and whether it exists */
  evidenceFile: string;
  evidenceFileExists: boolean;
  policyFile: string;
  stores: readonly string[];
  registries: readonly string[];
  /** configured sources that did not answer the probe before any package needed them */
  unreachable: ReadonlyArray<{ source: string; setting: string; cause: string }>;
  circuits: readonly OpenCircuit[];
}

export interface RootCause {
  id: string;
  /** what is wrong, where, and the fix: said once */
  lines: string[];
  /** name@version of every package it explains a violation of */
  packages: string[];
  /** printed even when it explains no package (an unreachable configured source) */
  always: boolean;
  explains(reason: Reason, decision: Decision): boolean;
}

export function causeContextOf(ctx: EngineContext): CauseContext {
  return {
    offline: ctx.settings.offline,
    evidenceFile: relative(ctx.settings.projectCwd, ctx.settings.evidenceFile) || ctx.settings.evidenceFile,
    evidenceFileExists: existsSync(ctx.settings.evidenceFile),
    policyFile: ctx.policyFile,
    stores: ctx.settings.attestationStores,
    registries: configuredRegistries(ctx.configuration),
    unreachable: ctx.unreachableSources,
    circuits: ctx.net.circuits.list(),
  };
}

const CONSEQUENCES = new Set(['evidence-missing', 'evidence-insufficient']);

function label(d: Decision): string {
  return `${d.package.name}@${d.package.version}`;
}

function settingFor(origin: string, ctx: CauseContext): string {
  if (ctx.stores.some((s) => originOf(s) === origin)) return 'tollgateAttestationStores in .yarnrc.yml';
  if (ctx.registries.some((r) => originOf(r) === origin))
    return 'npmRegistryServer or npmScopes in .yarnrc.yml';
  return "the registry's attestations endpoint (dist.attestations.url), or network settings in .yarnrc.yml";
}

function unreachableCauses(ctx: CauseContext): RootCause[] {
  const byOrigin = new Map<string, { cause: string; elapsedMs?: number; setting: string; always: boolean }>();
  for (const u of ctx.unreachable) {
    byOrigin.set(originOf(u.source), { cause: u.cause, setting: u.setting, always: true });
  }
  for (const c of ctx.circuits) {
    const known = byOrigin.get(c.origin);
    byOrigin.set(c.origin, {
      cause: c.cause,
      elapsedMs: c.elapsedMs,
      setting: known?.setting ?? settingFor(c.origin, ctx),
      always: known?.always ?? false,
    });
  }
  return [...byOrigin].map(([origin, u]) => ({
    id: `unreachable ${origin}`,
    always: u.always,
    packages: [],
    lines: [
      `Tollgate: ${origin} did not answer (${u.cause}${u.elapsedMs !== undefined ? `, after ${(u.elapsedMs / 1000).toFixed(1)} s` : ''}); it was not asked again in this run`,
      `  fix: ${u.setting} — correct or remove the URL, or make it reachable; packages judged from local records were not affected`,
    ],
    explains: (reason) =>
      reason.code === 'evidence-unavailable' && !!reason.evidence && originOf(reason.evidence) === origin,
  }));
}

function offlineCause(ctx: CauseContext): RootCause | undefined {
  if (!ctx.offline) return undefined;
  return {
    id: 'offline-unbound',
    always: false,
    packages: [],
    lines: [
      ctx.evidenceFileExists
        ? `Tollgate: offline, and ${ctx.evidenceFile} has no record tying these packages' archives to registry tarballs`
        : `Tollgate: offline, and ${ctx.evidenceFile} does not exist, so nothing ties any archive to a registry tarball`,
      `  fix: run \`yarn install\` online once and commit ${ctx.evidenceFile} (and .tollgate.bundles/), or check online`,
    ],
    explains: (reason) => reason.code === 'evidence-unavailable' && reason.failure === 'TARBALL_UNBOUND',
  };
}

function trustRootCauses(decisions: readonly Decision[], ctx: CauseContext): RootCause[] {
  const groups = new Map<string, RootCause>();
  for (const d of decisions) {
    for (const r of violations(d)) {
      if (r.code !== 'trust-root-not-allowed') continue;
      const id = `trust ${d.rule.id} ${r.actual}`;
      if (groups.has(id)) continue;
      groups.set(id, {
        id,
        always: false,
        packages: [],
        lines: [
          `Tollgate: evidence verified by trust root ${r.actual} is ignored by rule ${d.rule.id} (${d.rule.location.file}:${d.rule.location.line}), which trusts ${r.expected?.replace(/^trust roots /, '') ?? 'others'}`,
          `  fix: if that Sigstore instance should count for these packages, add it to the rule's trust list in ${ctx.policyFile}`,
        ],
        explains: (reason, decision) =>
          reason.code === 'trust-root-not-allowed' &&
          decision.rule.id === d.rule.id &&
          reason.actual === r.actual,
      });
    }
  }
  return [...groups.values()];
}

/** A known-bad source that could not be consulted (a stale database, a verdict service down): said once. */
function knownBadCauses(decisions: readonly Decision[], ctx: CauseContext): RootCause[] {
  const groups = new Map<string, RootCause>();
  for (const d of decisions) {
    for (const r of violations(d)) {
      if (r.code !== 'known-bad-unchecked') continue;
      const id = `known-bad ${r.failure} ${r.evidence}`;
      if (groups.has(id)) continue;
      const database = r.failure === 'DATABASE_STALE' || r.failure === 'DATABASE_ABSENT';
      groups.set(id, {
        id,
        always: false,
        packages: [],
        lines: [
          database
            ? `Tollgate: ${r.message.replace(/^the known-bad sources could not be consulted \([A-Z_]+\): /, '')}`
            : `Tollgate: ${r.evidence} could not be consulted (${r.failure}), e.g. ${r.message.replace(/^.*?\): /, '')}`,
          database
            ? `  fix: run \`yarn tollgate db update\` (knownBad.maxAge and stale: deny in ${ctx.policyFile} deny every package until then)`
            : `  fix: make the verdict service reachable, or correct knownBad.verdictService in ${ctx.policyFile}; in enforce mode a package it cannot answer for is denied`,
        ],
        explains: (reason) =>
          reason.code === 'known-bad-unchecked' &&
          reason.failure === r.failure &&
          reason.evidence === r.evidence,
      });
    }
  }
  return [...groups.values()];
}

/** The causes behind the violations of `decisions`, each with the packages it explains. */
export function findRootCauses(decisions: readonly Decision[], ctx: CauseContext): RootCause[] {
  const causes = [
    ...unreachableCauses(ctx),
    ...trustRootCauses(decisions, ctx),
    ...knownBadCauses(decisions, ctx),
  ];
  const offline = offlineCause(ctx);
  if (offline) causes.push(offline);
  for (const d of decisions) {
    for (const cause of causes) {
      if (violations(d).some((r) => cause.explains(r, d))) cause.packages.push(label(d));
    }
  }
  return causes.filter((c) => c.always || c.packages.length >= 2);
}

/**
 * The violations of `decision` no root cause explains. Missing evidence is a consequence when a cause
 * explains why evidence could not be had.
 */
export function unexplained(decision: Decision, causes: readonly RootCause[]): Reason[] {
  const all = violations(decision);
  const explained = all.filter((r) => causes.some((c) => c.explains(r, decision)));
  if (explained.length === 0) return all;
  return all.filter((r) => !explained.includes(r) && !CONSEQUENCES.has(r.code));
}

/** Package labels folded into lines of about `width` characters. */
export function packageListLines(packages: readonly string[], width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const p of packages) {
    const next = line ? `${line}, ${p}` : p;
    if (next.length > width && line) {
      lines.push(`    ${line},`);
      line = p;
    } else {
      line = next;
    }
  }
  if (line) lines.push(`    ${line}`);
  return lines;
}
