// npm's publish attestation: the registry's statement, signed with its own key (not a Fulcio
// certificate), that it accepted this name and version. sigstore-js checks the signature; the
// predicate must be checked to name the package it is attached to.

import { truncate } from '../encoding';
import { EvidenceError } from '../error';
import type { Statement } from './in-toto';

export const NPM_PUBLISH_V01 = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';

export function isPublishAttestation(predicateType: string): boolean {
  return predicateType === NPM_PUBLISH_V01;
}

export function assertPublishPredicate(statement: Statement, name: string, version: string): void {
  const predicate = statement.predicate as { name?: unknown; version?: unknown } | undefined;
  if (predicate?.name !== name || predicate?.version !== version) {
    throw new EvidenceError(
      'PUBLISH_ATTESTATION_MISMATCH',
      `publish attestation is for ${truncate(String(predicate?.name), 100)}@${truncate(String(predicate?.version), 40)}, expected ${name}@${version}`,
    );
  }
}
