// Trust continuity: the companion file (.tollgate.pins.json) records, per package and release line
// (the major version, or 0.<minor> below 1.0.0), the signer identity and the evidence level accepted
// so far, each from a version on ("since"). Entries only change by trust on first use, by evidence
// getting stronger, or by an approval with a recorded reason.
import semver from 'semver';
import type { Diagnostic } from './diagnostics';
import { formatField, internalError } from './diagnostics';
import { type ContinuityScope, type EvidenceLevel, evidenceRank } from './model';
import { DEFAULT_PINS_FILE } from './pins-file-name';
import validatePins from './schema/generated/validate-pins.cjs';
import { validateAgainstSchema } from './schema-validation';
import { parseYamlSource } from './source';

export { DEFAULT_PINS_FILE };

/**
 * The identity that must not change silently: issuer, subject and every CI claim of the certificate.
 * A CI subject embeds the ref it ran on (`...release.yml@refs/tags/v1.2.3`), so it is pinned without
 * that suffix, and a tag ref is pinned as `refs/tags/*`: a new tag is not a new identity, a branch or
 * another ref kind is. A field recorded as null was absent from the certificate; a field missing
 * altogether comes from an older pins file, which recorded less, and is filled in (never relaxed) the
 * next time the same identity is seen.
 */
export interface PinnedIdentity {
  issuer: string;
  subject?: string | null;
  repository?: string | null;
  repositoryId?: string | null;
  ownerId?: string | null;
  workflow?: string | null;
  ref?: string | null;
  event?: string | null;
  runner?: string | null;
}

export const PINNED_IDENTITY_FIELDS = [
  'issuer',
  'subject',
  'repository',
  'repositoryId',
  'ownerId',
  'workflow',
  'ref',
  'event',
  'runner',
] as const;

/** Every field recorded: absent claims as null. */
export function completeIdentity(identity: PinnedIdentity): PinnedIdentity {
  const out: PinnedIdentity = { issuer: identity.issuer };
  for (const field of PINNED_IDENTITY_FIELDS) {
    if (field === 'issuer') continue;
    out[field] = identity[field] ?? null;
  }
  return out;
}

function isComplete(identity: PinnedIdentity): boolean {
  return PINNED_IDENTITY_FIELDS.every((f) => identity[f] !== undefined);
}

export interface PinApprovalRecord {
  reason: string;
  /** ISO date-time */
  at: string;
  by?: string;
}

export interface PinnedSigner extends PinnedIdentity {
  since: string;
  approved?: PinApprovalRecord;
}

export interface PinnedEvidence {
  since: string;
  level: EvidenceLevel;
  approved?: PinApprovalRecord;
}

export interface PinnedLine {
  signers: PinnedSigner[];
  evidence: PinnedEvidence[];
}

export interface Pins {
  version: 1;
  packages: Record<string, Record<string, PinnedLine>>;
}

export interface PinUpdate {
  /** identity-completed: an entry of an older pins file gets the fields it did not record */
  kind: 'first-use' | 'evidence-upgrade' | 'identity-completed';
  package: string;
  version: string;
  line: string;
  signer?: PinnedIdentity;
  evidence?: EvidenceLevel;
}

export interface PinApproval {
  package: string;
  version: string;
  /** the new identity to accept from `version` on */
  signer?: PinnedIdentity;
  /** the (lower) evidence level to accept from `version` on */
  evidence?: EvidenceLevel;
  reason: string;
  at: Date;
  by?: string;
}

export interface ContinuityViolation {
  code: 'identity-changed' | 'evidence-downgrade';
  message: string;
  expected: string;
  actual: string;
  line: string;
  /** The pinned entry that was contradicted. */
  pinnedSince: string;
}

export interface ContinuityResult {
  line?: string;
  violations: ContinuityViolation[];
  updates: PinUpdate[];
}

export function emptyPins(): Pins {
  return { version: 1, packages: {} };
}

export function releaseLine(version: string): string | undefined {
  const parsed = semver.parse(version);
  if (!parsed) return undefined;
  return parsed.major > 0 ? String(parsed.major) : `0.${parsed.minor}`;
}

function lineFloor(line: string): string {
  return line.includes('.') ? `${line}.0` : `${line}.0.0`;
}

function compareLines(a: string, b: string): number {
  return semver.compare(lineFloor(a), lineFloor(b));
}

/** The entry in force for `version`: the last one whose `since` is not after it. */
function inForce<T extends { since: string }>(entries: readonly T[], version: string): T | undefined {
  let current: T | undefined;
  for (const entry of entries) if (semver.lte(entry.since, version)) current = entry;
  return current;
}

export function describeIdentity(identity: Partial<PinnedIdentity>): string {
  return PINNED_IDENTITY_FIELDS.filter((f) => identity[f] !== undefined && identity[f] !== null)
    .map((f) => `${f}=${identity[f]}`)
    .join(' ');
}

/** Fields the pin recorded (including as absent) whose observed value differs. */
export function identityDifferences(pinned: PinnedIdentity, observed: PinnedIdentity): string[] {
  return PINNED_IDENTITY_FIELDS.filter(
    (f) => pinned[f] !== undefined && (pinned[f] ?? null) !== (observed[f] ?? null),
  );
}

/** The strongest evidence level in force at the newest entry of any line but `except`. */
function strongestOtherLine(
  packagePins: Record<string, PinnedLine>,
  except: string,
): PinnedEvidence | undefined {
  let strongest: PinnedEvidence | undefined;
  for (const [line, pinned] of Object.entries(packagePins)) {
    if (line === except) continue;
    const latest = pinned.evidence.at(-1);
    if (latest && (!strongest || evidenceRank(latest.level) > evidenceRank(strongest.level)))
      strongest = latest;
  }
  return strongest;
}

export function checkContinuity(
  pins: Pins,
  name: string,
  version: string,
  observedLevel: EvidenceLevel,
  observedIdentity: PinnedIdentity | undefined,
  scope: ContinuityScope = 'package',
): ContinuityResult {
  const line = releaseLine(version);
  if (line === undefined) return { violations: [], updates: [] };
  const result: ContinuityResult = { line, violations: [], updates: [] };
  const packagePins = pins.packages[name] ?? {};
  const linePins = packagePins[line];
  const otherLines = Object.keys(packagePins)
    .filter((l) => l !== line)
    .sort(compareLines);
  const newestOther = otherLines.at(-1);

  // Identity: compared within the line; a line with no signer pinned yet is compared with the newest
  // other line, since an unknown identity appearing with a new (or an old) major is what a hijack
  // looks like.
  const signerReference = linePins?.signers.length
    ? (inForce(linePins.signers, version) ?? linePins.signers[0])
    : newestOther !== undefined
      ? packagePins[newestOther]!.signers.at(-1)
      : undefined;
  if (observedIdentity && signerReference) {
    const changed = identityDifferences(signerReference, observedIdentity);
    if (changed.length) {
      result.violations.push({
        code: 'identity-changed',
        message: `signer identity changed (${changed.join(', ')}) from the one pinned for ${name}@${signerReference.since}${linePins?.signers.length ? '' : ` (release line ${releaseLine(signerReference.since)})`}`,
        expected: describeIdentity(signerReference),
        actual: describeIdentity(observedIdentity),
        line,
        pinnedSince: signerReference.since,
      });
    }
  }

  // Evidence. Package scope (the default): within the line, an older version than any pinned one is
  // held to the first entry; a line with nothing pinned, older or newer, is held to the strongest
  // level any other line reached. Release-line scope: earlier versions of the same line, or the newest
  // line when this one is newer than all.
  const evidenceReference =
    scope === 'package'
      ? linePins?.evidence.length
        ? (inForce(linePins.evidence, version) ?? linePins.evidence[0])
        : strongestOtherLine(packagePins, line)
      : linePins
        ? inForce(linePins.evidence, version)
        : newestOther !== undefined && compareLines(line, newestOther) > 0
          ? packagePins[newestOther]!.evidence.at(-1)
          : undefined;
  if (evidenceReference && evidenceRank(observedLevel) < evidenceRank(evidenceReference.level)) {
    const where =
      releaseLine(evidenceReference.since) === line
        ? ''
        : ` (release line ${releaseLine(evidenceReference.since)})`;
    result.violations.push({
      code: 'evidence-downgrade',
      message: `evidence dropped from ${evidenceReference.level} (pinned since ${name}@${evidenceReference.since}${where}) to ${observedLevel}`,
      expected: `at least ${evidenceReference.level}`,
      actual: observedLevel,
      line,
      pinnedSince: evidenceReference.since,
    });
  }

  if (result.violations.length) return result;
  const update: PinUpdate = { kind: 'evidence-upgrade', package: name, version, line };
  if (observedIdentity && !linePins?.signers.length) update.signer = completeIdentity(observedIdentity);
  const lineEvidence = linePins ? inForce(linePins.evidence, version) : undefined;
  if (evidenceRank(observedLevel) > evidenceRank(lineEvidence?.level ?? 'none'))
    update.evidence = observedLevel;
  if (!linePins || update.signer) update.kind = 'first-use';
  if (update.signer || update.evidence) result.updates.push(update);
  else if (
    observedIdentity &&
    signerReference &&
    linePins?.signers.includes(signerReference) &&
    !isComplete(signerReference)
  ) {
    result.updates.push({
      kind: 'identity-completed',
      package: name,
      version: signerReference.since,
      line,
      signer: completeIdentity(observedIdentity),
    });
  }
  return result;
}

function clonePins(pins: Pins): Pins {
  return structuredClone(pins);
}

function insertSorted<T extends { since: string }>(entries: T[], entry: T): void {
  let at = entries.length;
  while (at > 0 && semver.gt(entries[at - 1]!.since, entry.since)) at--;
  entries.splice(at, 0, entry);
}

function lineFor(pins: Pins, name: string, line: string): PinnedLine {
  pins.packages[name] ??= {};
  pins.packages[name][line] ??= { signers: [], evidence: [] };
  return pins.packages[name][line];
}

function sameIdentity(a: PinnedIdentity, b: PinnedIdentity): boolean {
  return PINNED_IDENTITY_FIELDS.every((f) => (a[f] ?? null) === (b[f] ?? null));
}

/** Applies trust-on-first-use updates from decisions. Idempotent. */
export function applyPinUpdates(pins: Pins, updates: readonly PinUpdate[]): Pins {
  const next = clonePins(pins);
  for (const update of updates) {
    if (releaseLine(update.version) !== update.line) continue;
    const line = lineFor(next, update.package, update.line);
    if (update.kind === 'identity-completed' && update.signer) {
      // Only fields the older entry did not record are added; recorded ones matched when this was made.
      const entry = line.signers.find((s) => s.since === update.version);
      if (entry) {
        for (const field of PINNED_IDENTITY_FIELDS) {
          if (entry[field] === undefined && field !== 'issuer') entry[field] = update.signer[field] ?? null;
        }
      }
      continue;
    }
    if (update.signer && !line.signers.some((s) => sameIdentity(s, update.signer!))) {
      insertSorted(line.signers, { since: update.version, ...completeIdentity(update.signer) });
    }
    if (update.evidence) {
      const current = inForce(line.evidence, update.version);
      if (evidenceRank(update.evidence) > evidenceRank(current?.level ?? 'none')) {
        insertSorted(line.evidence, { since: update.version, level: update.evidence });
      }
    }
  }
  return next;
}

export type ApprovalResult = { ok: true; pins: Pins } | { ok: false; code: string; message: string };

/** Accepts an identity change or an evidence downgrade from `version` on, recording why. */
export function approvePinChange(pins: Pins, approval: PinApproval): ApprovalResult {
  const reason = approval.reason.trim();
  if (reason.length < 3) {
    return {
      ok: false,
      code: 'approval-reason-required',
      message: 'an approval needs a reason (who checked what, and why it is fine)',
    };
  }
  const line = releaseLine(approval.version);
  if (line === undefined) {
    return {
      ok: false,
      code: 'approval-version-invalid',
      message: `"${approval.version}" is not a semver version`,
    };
  }
  if (!approval.signer && !approval.evidence) {
    return {
      ok: false,
      code: 'approval-empty',
      message: 'approve a signer identity, an evidence level, or both',
    };
  }
  if (Number.isNaN(approval.at.getTime())) {
    return { ok: false, code: 'approval-time-invalid', message: 'the approval time is not a valid date' };
  }
  const record: PinApprovalRecord = { reason, at: approval.at.toISOString() };
  if (approval.by) record.by = approval.by;
  const next = clonePins(pins);
  const pinned = lineFor(next, approval.package, line);
  if (approval.signer)
    insertSorted(pinned.signers, {
      since: approval.version,
      ...completeIdentity(approval.signer),
      approved: record,
    });
  if (approval.evidence)
    insertSorted(pinned.evidence, { since: approval.version, level: approval.evidence, approved: record });
  return { ok: true, pins: next };
}

/** Stable output: sorted packages and lines, entries by version, fixed key order, trailing newline. */
export function serializePins(pins: Pins): string {
  const packages: Record<string, Record<string, unknown>> = {};
  for (const name of Object.keys(pins.packages).sort()) {
    const lines: Record<string, unknown> = {};
    for (const line of Object.keys(pins.packages[name]!).sort(compareLines)) {
      const pinned = pins.packages[name]![line]!;
      lines[line] = {
        signers: sortBySince(pinned.signers).map((s) =>
          ordered(s, ['since', ...PINNED_IDENTITY_FIELDS, 'approved'], { approved: orderedApproval }),
        ),
        evidence: sortBySince(pinned.evidence).map((e) =>
          ordered(e, ['since', 'level', 'approved'], { approved: orderedApproval }),
        ),
      };
    }
    packages[name] = lines;
  }
  return `${JSON.stringify({ version: 1, packages }, null, 2)}\n`;
}

function sortBySince<T extends { since: string }>(entries: readonly T[]): T[] {
  return entries
    .map((entry, i) => ({ entry, i }))
    .sort((a, b) => semver.compare(a.entry.since, b.entry.since) || a.i - b.i)
    .map(({ entry }) => entry);
}

function orderedApproval(value: unknown): unknown {
  return ordered(value as PinApprovalRecord, ['reason', 'at', 'by']);
}

function ordered<T extends object>(
  value: T,
  keys: readonly string[],
  nested: Record<string, (v: unknown) => unknown> = {},
): object {
  const out: Record<string, unknown> = {};
  const record = value as Record<string, unknown>;
  for (const key of keys) {
    if (record[key] === undefined) continue;
    out[key] = nested[key] ? nested[key](record[key]) : record[key];
  }
  return out;
}

export type PinsLoadResult = { ok: true; pins: Pins } | { ok: false; errors: Diagnostic[] };

/** Every entry of every release line belongs to that line. */
function linesMatch(pins: Pins): boolean {
  return Object.values(pins.packages).every((lines) =>
    Object.entries(lines).every(([line, pinned]) =>
      [...pinned.signers, ...pinned.evidence].every((entry) => releaseLine(entry.since) === line),
    ),
  );
}

/**
 * The file as Tollgate writes it (serializePins) is exactly the JSON of its own content: for such a
 * text a plain JSON read gives what the location-keeping YAML reader gives (a duplicate key would not
 * survive the round trip), at a fraction of the cost. Anything else — hand-edited, invalid — returns
 * null and takes the located path, which says what is wrong and where.
 */
function readCanonicalPins(text: string): Pins | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (`${JSON.stringify(data, null, 2)}\n` !== text) return null;
  if (!validatePins(data)) return null;
  const pins = data as Pins;
  if (!linesMatch(pins)) return null;
  delete (pins as Partial<Pins> & { $schema?: string }).$schema;
  return pins;
}

/** Reads a pins file; never throws. An empty text is an empty pins file. */
export function loadPins(text: string, file = DEFAULT_PINS_FILE): PinsLoadResult {
  try {
    if (text.trim() === '') return { ok: true, pins: emptyPins() };
    const canonical = readCanonicalPins(text);
    if (canonical) return { ok: true, pins: canonical };
    const source = parseYamlSource(text, file);
    if (source.errors.length) return { ok: false, errors: source.errors };
    const errors = validateAgainstSchema(validatePins, source);
    if (errors.length) return { ok: false, errors };
    const pins = source.data as Pins;
    for (const [name, lines] of Object.entries(pins.packages)) {
      for (const [line, pinned] of Object.entries(lines)) {
        for (const [kind, entries] of [
          ['signers', pinned.signers],
          ['evidence', pinned.evidence],
        ] as const) {
          entries.forEach((entry, i) => {
            if (releaseLine(entry.since) === line) return;
            const path = ['packages', name, line, kind, i, 'since'];
            errors.push({
              ...source.locate(path),
              code: 'pin-line-mismatch',
              severity: 'error',
              field: formatField(path),
              message: `version ${entry.since} does not belong to release line ${line}`,
              expected: `a version of line ${line}`,
              found: JSON.stringify(entry.since),
              suggestion: `move it under "${releaseLine(entry.since)}"`,
            });
          });
        }
      }
    }
    delete (pins as Partial<Pins> & { $schema?: string }).$schema;
    return errors.length ? { ok: false, errors } : { ok: true, pins };
  } catch (error) {
    return {
      ok: false,
      errors: [internalError(file, 'could not read the pins file', error)],
    };
  }
}
