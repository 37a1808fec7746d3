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
  /** the policy is missing, unreadable or invalid */
  POLICY_ERROR: 9105,
} as const;

export function messageName(code: (typeof TollgateMessage)[keyof typeof TollgateMessage]): MessageName {
  return code as unknown as MessageName;
}
