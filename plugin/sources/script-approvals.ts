// The allowances `yarn tollgate scripts approve` and `init` write: bound to the identity that signs the
// package now (its stable part: a CI identity by repository, ids and workflow, a tag ref as any tag;
// a person by issuer and subject), to one tarball's digest when asked or when nothing signs it, or to
// its source for git, exec, file and http packages. Pure: decisions in, YAML values out.
import { Document, isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from 'yaml';
import type { Decision } from '../../policy';
import { comparableRemote } from '../../policy/script-allowance';

export type AllowanceEntry = Record<string, unknown>;

export type ApprovalPlan =
  | { ok: true; entry: AllowanceEntry; bound: 'signer' | 'integrity' | 'source'; describe: string }
  | { ok: false; problem: string };

const SOURCE_BOUND = new Set(['git', 'exec', 'file', 'http']);

/** The signer entry for the identity that signs a release now, from the certificate's own claims. */
export function signerEntryOf(decision: Decision): Record<string, unknown> | null {
  const identity = decision.identity;
  if (!identity?.issuer) return null;
  const claim = (field: string) => {
    const c = identity.claims[field];
    return c && c.from === 'certificate' ? c.value : undefined;
  };
  const repository = claim('repository');
  const workflow = claim('workflow');
  if (repository && workflow) {
    const entry: Record<string, unknown> = { issuer: identity.issuer, repository };
    const repositoryId = claim('repositoryId');
    const ownerId = claim('ownerId');
    if (repositoryId) entry.repositoryId = repositoryId;
    if (ownerId) entry.ownerId = ownerId;
    entry.workflow = workflow;
    const ref = claim('ref');
    if (ref) entry.ref = ref.startsWith('refs/tags/') ? { glob: 'refs/tags/*' } : ref;
    const runner = claim('runner');
    if (runner) entry.runner = runner;
    return entry;
  }
  if (identity.subject) return { issuer: identity.issuer, subject: identity.subject };
  return null;
}

function integrityOf(decision: Decision): string | undefined {
  const bound = decision.scripts?.integrity;
  return bound && /^sha512-[A-Za-z0-9+/]{86}==$/.test(bound) ? bound : undefined;
}

/** What to write to approve the build of the package a decision is about. */
export function planApproval(decision: Decision, options: { digest: boolean; reason: string }): ApprovalPlan {
  const p = decision.judged;
  const label = `${decision.package.name}@${decision.package.version}`;
  if (SOURCE_BOUND.has(p.source)) {
    const entry: AllowanceEntry = { package: p.name, source: p.source };
    const locator = p.locator ?? '';
    if (p.source === 'git') entry.repository = comparableRemote(locator.slice(locator.indexOf('@', 1) + 1));
    entry.reason = options.reason;
    return { ok: true, entry, bound: 'source', describe: `${label} from its ${p.source} source` };
  }
  if (p.source !== 'npm')
    return { ok: false, problem: `${label} is a ${p.source} package: Yarn builds none` };
  const signer = options.digest ? null : signerEntryOf(decision);
  if (signer) {
    return {
      ok: true,
      entry: { package: p.name, signers: [signer], reason: options.reason },
      bound: 'signer',
      describe: `${label} and every version signed by ${decision.identity?.subject ?? signer.issuer}`,
    };
  }
  const integrity = integrityOf(decision);
  if (!options.digest) {
    return {
      ok: false,
      problem: `${label} carries no verified signature or provenance, so there is no identity to approve; pass --digest to approve this exact tarball${integrity ? ` (${integrity})` : ''}`,
    };
  }
  if (!integrity) {
    return {
      ok: false,
      problem: `the tarball of ${label} is not bound to the registry here, so its digest cannot be approved; run \`yarn install\` and try again`,
    };
  }
  return {
    ok: true,
    entry: { package: p.name, integrity, reason: options.reason },
    bound: 'integrity',
    describe: `exactly the tarball ${integrity} of ${label} (no other version)`,
  };
}

/** Adds allowances under `scripts.allow` of a policy text, keeping its comments and layout. */
export function addAllowances(policyText: string, entries: readonly AllowanceEntry[]): string {
  const doc = parseDocument(policyText);
  let scripts = doc.get('scripts', true);
  if (!isMap(scripts)) {
    scripts = new YAMLMap();
    doc.set('scripts', scripts);
  }
  const section = scripts as YAMLMap;
  const existing: unknown = section.get('allow', true);
  const allow = isSeq(existing) ? existing : new YAMLSeq();
  if (allow !== existing) section.set('allow', allow);
  for (const entry of entries) allow.items.push(doc.createNode(entry));
  return doc.toString({ lineWidth: 0 });
}

/** One allowance as YAML, for review before it is written. */
export function allowanceYaml(entry: AllowanceEntry): string {
  return new Document([entry]).toString({ lineWidth: 0 });
}
