// What `yarn tollgate init` writes: a starter policy derived from the lockfile and the evidence found for
// it. Pure: decisions in, a YAML document and the list of choices (with reasons) out.
import { Document, isMap, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import type { Decision } from '../../policy';
import { comparableRemote } from '../../policy/script-allowance';
import { planApproval, signerEntryOf } from './script-approvals';

export interface InitInput {
  decisions: readonly Decision[];
  /** name -> trusted_root.json path relative to the policy */
  trustRoots: Record<string, string>;
  /** scope (without @) -> registry, for scopes mapped to a registry other than the default one */
  privateScopes: Record<string, string>;
  /** name globs the user declared internal, bound to the registry their packages came from */
  internal: string[];
  defaultRegistry: string;
  mode: 'enforce' | 'warn';
  /** the JSON Schema's path relative to the policy, for editors (yaml-language-server) */
  schemaPath?: string;
}

export interface InitChoice {
  what: string;
  why: string;
}

interface SignerKey {
  issuer: string;
  subject?: string;
  repository?: string;
  workflow?: string;
}

type Identity = NonNullable<Decision['identity']>;

function claimValue(identity: Identity, field: string): string | undefined {
  return identity.claims[field]?.value;
}

/** The stable part of an identity: CI subjects embed the ref, so pin repository + workflow instead. */
function signerKeyOf(identity: Identity): SignerKey | null {
  if (!identity.issuer) return null;
  const repository = claimValue(identity, 'repository');
  const workflow = claimValue(identity, 'workflow');
  if (repository && workflow) return { issuer: identity.issuer, repository, workflow };
  if (identity.subject) return { issuer: identity.issuer, subject: identity.subject };
  return null;
}

function keyString(k: SignerKey): string {
  return JSON.stringify([k.issuer, k.subject ?? '', k.repository ?? '', k.workflow ?? '']);
}

function signerYaml(k: SignerKey): Record<string, string> {
  const out: Record<string, string> = { issuer: k.issuer };
  if (k.subject) out.subject = k.subject;
  if (k.repository) out.repository = k.repository;
  if (k.workflow) out.workflow = k.workflow;
  return out;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${escaped}$`);
}

/** Builds the starter policy. Every choice is recorded with its reason so the command can print them. */
export function buildStarterPolicy(input: InitInput): { yaml: string; choices: InitChoice[] } {
  const choices: InitChoice[] = [];
  const allRoots = ['public-good', ...Object.keys(input.trustRoots)];
  const rules: Record<string, unknown>[] = [];
  const ruled = new Set<string>();
  const usedNames = new Set<string>();
  const uniqueName = (base: string) => {
    const slug =
      base
        .replace(/[^a-z0-9]+/gi, '-')
        .replace(/^-|-$/g, '')
        .toLowerCase() || 'rule';
    let name = slug;
    for (let i = 2; usedNames.has(name); i++) name = `${slug}-${i}`;
    usedNames.add(name);
    return name;
  };

  const npmDecisions = input.decisions.filter((d) => d.judged.source === 'npm');
  const levelOf = (d: Decision) => d.evidence.observed;

  // 1. Private scopes and internal names: bound to their registry, signature required when all had one.
  const internalGroups: {
    packages: string[];
    registry: string;
    label: string;
    name: string;
    members: Decision[];
  }[] = [];
  for (const [scope, registry] of Object.entries(input.privateScopes)) {
    const members = npmDecisions.filter((d) => d.judged.name.startsWith(`@${scope}/`));
    internalGroups.push({
      packages: [`@${scope}/*`],
      registry,
      label: `@${scope}`,
      name: `scope-${scope}`,
      members,
    });
  }
  for (const glob of input.internal) {
    const re = globToRegExp(glob);
    const members = npmDecisions.filter((d) => re.test(d.judged.name));
    const registry = members[0]?.judged.registry ?? input.defaultRegistry;
    internalGroups.push({
      packages: [glob],
      registry,
      label: glob,
      name: `internal-${glob.replace(/\*/g, '')}`,
      members,
    });
  }
  for (const group of internalGroups) {
    for (const m of group.members) ruled.add(m.judged.name);
    const signers = new Map<string, SignerKey>();
    let allSigned = group.members.length > 0;
    for (const m of group.members) {
      const key = m.identity ? signerKeyOf(m.identity) : null;
      if (key && (levelOf(m) === 'signature' || levelOf(m) === 'provenance'))
        signers.set(keyString(key), key);
      else allSigned = false;
    }
    const rule: Record<string, unknown> = {
      name: uniqueName(group.name),
      packages: group.packages,
      registries: [group.registry],
    };
    if (allSigned && signers.size > 0) {
      rule.require = 'signature';
      rule.trust = allRoots;
      rule.signers = [...signers.values()].map(signerYaml);
      choices.push({
        what: `${group.label}: only from ${group.registry}, signature required by ${[...signers.values()].map((s) => s.subject ?? `${s.repository} ${s.workflow}`).join(', ')}`,
        why: `all ${group.members.length} installed package(s) carry a verified signature by these identities`,
      });
    } else {
      choices.push({
        what: `${group.label}: only from ${group.registry} (registry binding), no signature required yet`,
        why:
          group.members.length === 0
            ? 'no such package is installed yet'
            : 'not every installed package is signed; require signatures once they are (require: signature)',
      });
    }
    rules.push(rule);
  }

  // 2. Packages with signatures or provenance: pin their current signer (trust on first use).
  const bySigner = new Map<string, { key: SignerKey; level: string; names: Set<string> }>();
  for (const d of npmDecisions) {
    if (ruled.has(d.judged.name) || !d.identity) continue;
    const level = levelOf(d);
    if (level !== 'signature' && level !== 'provenance') continue;
    const key = signerKeyOf(d.identity);
    if (!key) continue;
    const k = `${keyString(key)}|${level}`;
    const group = bySigner.get(k) ?? { key, level, names: new Set<string>() };
    group.names.add(d.judged.name);
    bySigner.set(k, group);
  }
  for (const group of bySigner.values()) {
    const names = [...group.names].sort();
    for (const n of names) ruled.add(n);
    const who = group.key.repository ? `${group.key.repository} (${group.key.workflow})` : group.key.subject;
    rules.push({
      name: uniqueName(`signed-${names[0]}`),
      packages: names,
      require: group.level,
      trust: allRoots,
      signers: [signerYaml(group.key)],
    });
    choices.push({
      what: `${names.join(', ')}: ${group.level} by ${who}`,
      why: 'that is the verified identity that signs them today (trust on first use)',
    });
  }

  // 3. Other sources found in the lockfile.
  const otherSources = new Map<string, Set<string>>();
  for (const d of input.decisions) {
    if (d.judged.source === 'npm') continue;
    const names = otherSources.get(d.judged.source) ?? new Set<string>();
    names.add(d.judged.name);
    otherSources.set(d.judged.source, names);
  }
  for (const [source, names] of otherSources) {
    rules.push({
      name: uniqueName(`from-${source}`),
      packages: [...names].sort(),
      sources: [source],
      require: 'none',
    });
    choices.push({
      what: `${[...names].join(', ')}: allowed from ${source}`,
      why: `yarn.lock installs them from ${source}, which carries no signature; review them by hand`,
    });
  }

  // Git and exec sources run their own code while Yarn fetches them: allowed for what is there today.
  const scripts: Record<string, unknown>[] = [];
  for (const d of input.decisions) {
    const source = d.judged.source;
    if (source !== 'git' && source !== 'exec') continue;
    const locator = d.judged.locator ?? '';
    const reference = locator.slice(locator.indexOf('@', 1) + 1);
    const allowance: Record<string, string> = { package: d.judged.name, source };
    if (source === 'git') allowance.repository = comparableRemote(reference);
    allowance.reason = 'installed when `yarn tollgate init` ran; review what it runs';
    scripts.push(allowance);
    choices.push({
      what: `${d.judged.name}: its ${source === 'git' ? `repository (${allowance.repository}) may run its pack scripts` : 'exec: script may run'} when Yarn fetches it`,
      why: `yarn.lock installs it from ${source} today, and Yarn cannot fetch it without running that code; review it`,
    });
  }

  // Builds (install scripts, node-gyp) that are there today: approved for the identity that signs them,
  // or for the exact tarball when nothing does, so the first install under the policy behaves as before.
  const approvedBuilds = new Set<string>();
  for (const d of input.decisions) {
    const steps = d.scripts?.steps;
    const source = d.judged.source;
    if (!steps?.length || source === 'git' || source === 'exec') continue;
    if (approvedBuilds.has(d.judged.name)) continue;
    approvedBuilds.add(d.judged.name);
    const reason = `had ${steps.join(', ')} when \`yarn tollgate init\` ran; review what it runs`;
    const signer = levelOf(d) === 'signature' || levelOf(d) === 'provenance' ? signerEntryOf(d) : null;
    const plan = planApproval(d, { digest: signer === null, reason });
    if (!plan.ok) {
      choices.push({
        what: `${d.judged.name}: its ${steps.join(', ')} will not run`,
        why: `${plan.problem}; approve it with \`yarn tollgate scripts approve ${d.judged.name} --reason "..."\` once reviewed`,
      });
      continue;
    }
    scripts.push(plan.entry);
    choices.push({
      what: `${d.judged.name}: its ${steps.join(', ')} may run, ${plan.bound === 'signer' ? 'when signed by the identity that signs it today' : plan.bound === 'integrity' ? 'for this exact tarball only (it is unsigned)' : `from its ${source} source`}`,
      why: 'it has install scripts today; review them, and prefer approvals by signer as upstream signs its releases',
    });
  }

  const unsigned = npmDecisions.filter((d) => !ruled.has(d.judged.name)).length;
  choices.push({
    what: `defaults: ${unsigned} other package(s) need no signature; evidence that is present must verify; identities are pinned on first use`,
    why: 'they carry no verified signature today; raise `defaults.require` to registry-signature or signature as upstream adopts provenance',
  });

  const doc = new Document({
    version: 1,
    mode: input.mode,
    ...(Object.keys(input.trustRoots).length
      ? { trustRoots: Object.fromEntries(Object.entries(input.trustRoots).map(([n, f]) => [n, { file: f }])) }
      : {}),
    defaults: { require: 'none', trust: allRoots, continuity: true },
    rules,
    scripts: { default: 'deny', ...(scripts.length ? { allow: scripts } : {}) },
  });
  doc.commentBefore =
    (input.schemaPath ? ` yaml-language-server: $schema=${input.schemaPath}\n` : '') +
    ' Tollgate policy, written by `yarn tollgate init` from yarn.lock and the evidence found for it.\n' +
    ' Review every rule: the identities below were trusted on first use.\n' +
    ' Reference: `yarn tollgate policy reference`; check it with `yarn tollgate policy check`.';
  const rulesNode = doc.get('rules', true);
  if (isSeq(rulesNode)) {
    (rulesNode as YAMLSeq).items.forEach((item, i) => {
      const choice = choices[i];
      if (choice && isMap(item)) (item as YAMLMap).commentBefore = ` ${choice.why}`;
    });
  }
  return { yaml: doc.toString({ lineWidth: 0 }), choices };
}
