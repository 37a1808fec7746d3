// Whether a dependency's build may run: its lifecycle scripts (preinstall, install, postinstall), the
// node-gyp build Yarn runs for a binding.gyp without an install script, and for git and exec sources
// the code Yarn runs to fetch them. An approval names who signs the package, never only its name: the
// next version from the approved identity runs with no new approval, and a version signed by anyone
// else, or by no one, does not run whatever it is called. Pure, like evaluate(): facts in, verdict out.
import type { BundleAssessment } from './assess';
import type { PackageFacts, Verdict } from './decision';
import type { SourceLocation } from './diagnostics';
import { type EvidenceLevel, evidenceRank, type Mode, type Policy, type ScriptAllowance } from './model';
import { versionSatisfies } from './package-selector';
import { comparableRemote } from './script-allowance';
import { bestSignerMatch, type FieldCheck } from './signer-match';

/** The build steps Yarn runs for a package, in its own words: lifecycle script names, or `node-gyp rebuild`. */
export const NODE_GYP_BUILD = 'node-gyp rebuild';
const LIFECYCLE_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const;

/**
 * What Yarn would run to build a package from its package.json `scripts` and whether it ships a
 * binding.gyp: the lifecycle scripts it lists, and node-gyp when there is a binding.gyp and no install
 * script (Yarn's own rule, as npm's).
 */
export function buildStepsOf(scripts: Record<string, unknown> | undefined, hasBindingGyp: boolean): string[] {
  const steps: string[] = LIFECYCLE_SCRIPTS.filter((name) => typeof scripts?.[name] === 'string');
  if (hasBindingGyp && typeof scripts?.install !== 'string') steps.push(NODE_GYP_BUILD);
  return steps;
}

export interface ScriptsDecision {
  /** what Yarn would run for the package, when its archive was read (absent: not known here) */
  steps?: string[];
  verdict: 'run' | 'withhold';
  /** what a withheld build means for the install: enforce fails it, warn reports it */
  mode: Mode;
  modeFrom: 'scripts' | 'allowance' | 'policy' | 'override';
  /** what decided: an allowance (bound to a signer, a digest or a source), the default, or mode off */
  by: 'signer' | 'integrity' | 'source' | 'default' | 'off';
  /** the allowance that approved the build, or the closest one that names the package and did not */
  allowance?: { index: number; location: SourceLocation; reason: string };
  /** why, in a sentence */
  message: string;
  /** the verified identity that signs this release now, as `subject (issuer)` */
  signer?: string;
  /** the digest of the tarball the build comes from, when it is bound to the registry */
  integrity?: string;
  /** field-by-field comparison with the closest signer of the allowance that did not approve it */
  checks?: FieldCheck[];
}

export interface ScriptsInput {
  policy: Policy;
  /** the package as installed (a patch: the patched package, whose archive Yarn builds) */
  package: PackageFacts;
  /** the package judged (a patch: its base, whose evidence speaks for it) */
  judged: PackageFacts;
  /** every verified bundle, assessed under the package's rule */
  bundles: readonly BundleAssessment[];
  /** trust roots of the rule that judged the package (an allowance may name its own) */
  ruleTrust: readonly string[];
  /** the package's verdict and the evidence level its rule saw satisfied */
  verdict: Verdict;
  satisfied: EvidenceLevel;
  modeOverride?: Mode;
}

function applies(allowance: ScriptAllowance, facts: PackageFacts): boolean {
  if (!allowance.package.test(facts.name)) return false;
  return allowance.versions === undefined || versionSatisfies(facts.version, allowance.versions);
}

function describe(allowance: ScriptAllowance) {
  return { index: allowance.index, location: allowance.location, reason: allowance.reason };
}

function signerLabel(b: BundleAssessment): string | undefined {
  const s = b.bundle.signer;
  return s ? `${s.subject} (${s.issuer})` : undefined;
}

/** Bundles whose certificate names who signed the release (npm's own publish attestation does not). */
function signedBundles(bundles: readonly BundleAssessment[]): BundleAssessment[] {
  return bundles.filter((b) => b.bundle.signer && b.bundle.kind !== 'publish-attestation');
}

export function judgeScripts(input: ScriptsInput): ScriptsDecision {
  const { policy, judged } = input;
  const section = policy.scripts;
  const steps = input.package.buildSteps;
  const integrity = judged.integrity ?? input.package.integrity;
  const base = { ...(steps === undefined ? {} : { steps }), ...(integrity ? { integrity } : {}) };
  const named = section.allow.filter((a) => applies(a, judged) || applies(a, input.package));
  const { mode, modeFrom } = scriptsMode(input, named);
  const signed = signedBundles(input.bundles);
  const signer = signed.map(signerLabel).find((l) => l !== undefined);
  const who = signer ? { signer } : {};
  const decided = (
    verdict: ScriptsDecision['verdict'],
    by: ScriptsDecision['by'],
    message: string,
    extra: Partial<ScriptsDecision> = who,
  ): ScriptsDecision => ({ ...base, verdict, mode, modeFrom, by, message, ...extra });
  if (mode === 'off') return decided('run', 'off', 'scripts mode is off: Tollgate withholds no build');

  let closest: { allowance: ScriptAllowance; checks: FieldCheck[]; failed: number } | undefined;
  for (const allowance of named) {
    if (allowance.source !== undefined) {
      if (allowance.source !== judged.source && allowance.source !== input.package.source) continue;
      if (
        allowance.repository &&
        !(judged.sourceUrl !== undefined && allowance.repository.test(comparableRemote(judged.sourceUrl)))
      )
        continue;
      return decided(
        'run',
        'source',
        `scripts.allow[${allowance.index}] allows the code of this ${allowance.source} source: ${allowance.reason}`,
        { allowance: describe(allowance) },
      );
    }
    if (allowance.integrity !== undefined) {
      if (integrity !== allowance.integrity) continue;
      return decided(
        'run',
        'integrity',
        `scripts.allow[${allowance.index}] approves this exact tarball by its digest, not by who signs it (the next version needs a new approval): ${allowance.reason}`,
        { ...who, allowance: describe(allowance) },
      );
    }
    if (allowance.signers) {
      const trust = allowance.trust ?? input.ruleTrust;
      for (const b of signed) {
        if (!trust.includes(b.bundle.trustRoot)) continue;
        const match = bestSignerMatch(allowance.signers, b.identity, judged);
        if (!match) continue;
        if (match.ok) {
          return decided(
            'run',
            'signer',
            `signed by an identity scripts.allow[${allowance.index}] approves (signers[${match.signerIndex}]): ${allowance.reason}`,
            { signer: signerLabel(b)!, allowance: describe(allowance) },
          );
        }
        const failed = match.checks.filter((c) => !c.ok).length;
        if (!closest || failed < closest.failed) closest = { allowance, checks: match.checks, failed };
      }
    }
  }

  if (named.length > 0) {
    const first = closest?.allowance ?? named[0]!;
    const fields = closest?.checks.filter((c) => !c.ok).map((c) => c.field) ?? [];
    const why =
      first.integrity !== undefined
        ? `scripts.allow[${first.index}] approves only the tarball ${first.integrity}, and this is another`
        : first.source !== undefined
          ? `scripts.allow[${first.index}] allows only a ${first.source} source${first.repository ? ' from its repository' : ''}, and this is not one`
          : signed.length === 0
            ? `it carries no verified signature, and scripts.allow[${first.index}] approves only the identities it lists`
            : closest
              ? `it is signed by ${signer}, which scripts.allow[${first.index}] does not approve (differs in ${fields.join(', ')})`
              : `its signature is verified by a trust root scripts.allow[${first.index}] does not accept`;
    return decided(
      'withhold',
      first.integrity !== undefined ? 'integrity' : first.source !== undefined ? 'source' : 'signer',
      why,
      { ...who, allowance: describe(first), ...(closest ? { checks: closest.checks } : {}) },
    );
  }

  const fetchSource = judged.source === 'git' || judged.source === 'exec';
  if (section.default === 'allow' && !fetchSource && input.verdict !== 'deny') {
    return decided(
      'run',
      'default',
      'scripts.default is allow: every package the gate allows may run its build',
    );
  }
  const verified = evidenceRank(input.satisfied) >= evidenceRank('signature');
  if (section.default === 'allow-verified' && input.verdict === 'allow' && verified && !fetchSource) {
    return decided(
      'run',
      'default',
      `scripts.default is allow-verified, and the gate allowed it on ${input.satisfied}${signer ? ` by ${signer}` : ''}`,
    );
  }
  const message =
    section.default === 'allow-verified'
      ? input.verdict !== 'allow'
        ? 'scripts.default is allow-verified, and the gate did not allow the package without a violation'
        : `scripts.default is allow-verified, and the package's rule saw no verified signature or provenance (${input.satisfied})`
      : `no scripts.allow entry names it, and scripts.default is ${section.default}`;
  return decided('withhold', 'default', message);
}

function scriptsMode(
  input: ScriptsInput,
  named: readonly ScriptAllowance[],
): { mode: Mode; modeFrom: ScriptsDecision['modeFrom'] } {
  if (input.modeOverride) return { mode: input.modeOverride, modeFrom: 'override' };
  const own = named.find((a) => a.mode !== undefined)?.mode;
  if (own) return { mode: own, modeFrom: 'allowance' };
  if (input.policy.scripts.mode) return { mode: input.policy.scripts.mode, modeFrom: 'scripts' };
  return { mode: input.policy.mode, modeFrom: 'policy' };
}
