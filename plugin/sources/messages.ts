import type { MessageName } from '@yarnpkg/core';

// Tollgate's message codes, printed by Yarn's report as YN91xx. Stable: tools grep for them.
export const TollgateMessage = {
  /** summary and progress lines */
  INFO: 9100,
  /** a package was verified and allowed */
  ALLOWED: 9101,
  /** a package violates the policy in warn mode */
  WARNED: 9102,
  /** a package violates the policy in enforce mode: the install stops */
  DENIED: 9103,
  /** a protected name was requested from a registry the policy does not allow */
  REGISTRY_BINDING: 9104,
  /** the policy, pins or evidence file is missing, unreadable or invalid */
  POLICY_ERROR: 9105,
  /** a lint finding about the policy: it loads, but something in it deserves a look */
  POLICY_LINT: 9106,
  /** one cause behind many packages' violations (a source that does not answer, offline without records) */
  ROOT_CAUSE: 9107,
  /** the known-bad database: its age, an import, a stale or unauthenticated database, the verdict service */
  KNOWN_BAD: 9108,
  /** a dependency's build (lifecycle scripts, node-gyp) withheld, or run on a digest approval */
  SCRIPTS: 9109,
  /** trust roots: a TUF refresh, a stale or embedded copy in use, refused cache files */
  TRUST: 9110,
  /** policy review against a base ref: a relaxation (error, or warning once acknowledged) or a tightening */
  POLICY_REVIEW: 9150,
  /** `yarn tollgate doctor`: YN9151–YN9161, one code per kind of finding (doctor/codes.ts); its summary is YN9100 */
  DOCTOR: 9151,
} as const;

export function messageName(code: (typeof TollgateMessage)[keyof typeof TollgateMessage]): MessageName {
  return code as unknown as MessageName;
}
