// Matching an observed identity against a policy signer. Every field the signer states must match;
// a claim the evidence does not carry fails (fail closed), and each comparison is kept so that an
// explanation can show expected against actual, field by field.
import type { ClaimSource, ObservedIdentity } from './claims';
import type { Signer } from './model';
import { describePattern, type StringPattern } from './patterns';
import { expandTag } from './tag-template';

export interface FieldCheck {
  field: string;
  expected: string;
  actual?: string;
  /** where the actual value came from */
  from?: ClaimSource;
  ok: boolean;
}

export interface SignerMatch {
  /** signers[index] of the deciding rule */
  signerIndex: number;
  ok: boolean;
  checks: FieldCheck[];
}

export interface PackageCoordinates {
  name: string;
  version: string;
}

export function matchSigner(
  signer: Signer,
  identity: ObservedIdentity,
  pkg: PackageCoordinates,
): SignerMatch {
  const checks: FieldCheck[] = [];
  const exact = (
    field: string,
    expected: string | undefined,
    actual: { value: string; from?: ClaimSource } | undefined,
  ) => {
    if (expected === undefined) return;
    checks.push(withActual({ field, expected, ok: actual?.value === expected }, actual));
  };
  const pattern = (
    field: string,
    expected: StringPattern | undefined,
    actual: { value: string; from?: ClaimSource } | undefined,
  ) => {
    if (expected === undefined) return;
    const ok = actual !== undefined && expected.test(actual.value);
    checks.push(withActual({ field, expected: describePattern(expected), ok }, actual));
  };
  const subject = identity.subject === undefined ? undefined : { value: identity.subject };
  exact('issuer', signer.issuer, identity.issuer === undefined ? undefined : { value: identity.issuer });
  pattern('subject', signer.subject, subject);
  exact('repository', signer.repository, identity.repository);
  exact('repositoryId', signer.repositoryId, identity.repositoryId);
  exact('ownerId', signer.ownerId, identity.ownerId);
  pattern('workflow', signer.workflow, identity.workflow);
  pattern('ref', signer.ref, identity.ref);
  if (signer.tag !== undefined) {
    exact('tag', `refs/tags/${expandTag(signer.tag, pkg.name, pkg.version)}`, identity.ref);
  }
  if (signer.events) {
    const event = identity.event;
    const allowed =
      signer.events.allow === undefined || (event !== undefined && signer.events.allow.includes(event.value));
    const denied =
      signer.events.deny !== undefined && (event === undefined || signer.events.deny.includes(event.value));
    const expected = [
      signer.events.allow ? `one of ${signer.events.allow.join(', ')}` : undefined,
      signer.events.deny ? `none of ${signer.events.deny.join(', ')}` : undefined,
    ]
      .filter(Boolean)
      .join(' and ');
    checks.push(withActual({ field: 'events', expected, ok: allowed && !denied }, event));
  }
  exact('runner', signer.runner, identity.runner);
  pattern('builder', signer.builder, identity.builder);
  return { signerIndex: signer.index, ok: checks.every((c) => c.ok), checks };
}

function withActual(
  check: FieldCheck,
  actual: { value: string; from?: ClaimSource } | undefined,
): FieldCheck {
  if (actual === undefined) return check;
  return actual.from
    ? { ...check, actual: actual.value, from: actual.from }
    : { ...check, actual: actual.value };
}

/** The first signer that matches, else the closest miss (fewest failed fields, then file order). */
export function bestSignerMatch(
  signers: readonly Signer[],
  identity: ObservedIdentity,
  pkg: PackageCoordinates,
): SignerMatch | undefined {
  let closest: SignerMatch | undefined;
  let closestFailures = Number.POSITIVE_INFINITY;
  for (const signer of signers) {
    const match = matchSigner(signer, identity, pkg);
    if (match.ok) return match;
    const failures = match.checks.filter((c) => !c.ok).length;
    if (failures < closestFailures) {
      closest = match;
      closestFailures = failures;
    }
  }
  return closest;
}
