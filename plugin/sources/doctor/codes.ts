// The message code of each kind of `yarn tollgate doctor` finding (YN9151–YN9161). Stable: CI scripts
// and tests grep for them, so a code is never reused for another kind.
import type { MessageName } from '@yarnpkg/core';
import type { DoctorCheck } from '../../../policy/doctor';

export const DOCTOR_CODES: Record<DoctorCheck, number> = {
  'scripts-unrestricted': 9151,
  'age-gate-off': 9152,
  'git-any-repository': 9153,
  'checksum-behavior': 9154,
  'mode-override-rc': 9155,
  'mode-override-env': 9156,
  'plugin-bundle': 9157,
  'trust-root-expiry': 9158,
  'tuf-metadata-expired': 9159,
  'exception-expiry': 9160,
  'stale-pin': 9161,
};

export function doctorCode(check: DoctorCheck): string {
  return `YN${DOCTOR_CODES[check]}`;
}

export function doctorMessage(check: DoctorCheck): MessageName {
  return DOCTOR_CODES[check] as unknown as MessageName;
}
