import type { MessageName } from '@yarnpkg/core';
import { messageName } from '../messages';
import type { SigningErrorCode } from './errors';

// Message codes of `yarn tollgate sign`, `publish` and `verify-release` (YN9140–YN9149). Stable: CI
// scripts grep for them.
export const SigningMessage = {
  /** what is being signed, with which identity, against which Sigstore instance */
  SIGNING: 9140,
  /** a bundle was produced, verified and written */
  SIGNED: 9141,
  /** the bundle was attached to an attestation store */
  ATTACHED: 9142,
  /** the package was published */
  PUBLISHED: 9143,
  /** a check was not possible and was skipped (said why) */
  SKIPPED: 9144,
  /** bad input or configuration: nothing was signed */
  USAGE_ERROR: 9145,
  /** obtaining a token, signing or checking the new bundle failed: nothing was published */
  SIGNING_ERROR: 9146,
  /** an attestation store did not take the bundle */
  ATTACH_ERROR: 9147,
  /** the registry did not take the package */
  PUBLISH_ERROR: 9148,
  /** `verify-release`: a plugin release verified, by whom */
  VERIFIED: 9149,
} as const;

export function signingMessage(code: (typeof SigningMessage)[keyof typeof SigningMessage]): MessageName {
  return messageName(code as never);
}

export function messageForError(code: SigningErrorCode): MessageName {
  switch (code) {
    case 'USAGE':
    case 'TARBALL_UNREADABLE':
    case 'PACKAGE_UNAVAILABLE':
      return signingMessage(SigningMessage.USAGE_ERROR);
    case 'ATTACH_FAILED':
      return signingMessage(SigningMessage.ATTACH_ERROR);
    case 'PUBLISH_FAILED':
      return signingMessage(SigningMessage.PUBLISH_ERROR);
    default:
      return signingMessage(SigningMessage.SIGNING_ERROR);
  }
}
