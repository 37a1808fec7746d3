import type { SignatureVerifier } from '../verify-pool';
import { canonicalizeDsse } from './dsse';
import { canonicalizeHashedRekord } from './hashedrekord';
import { type CanonicalEntry, field, invalidEntry } from './shared';

export type { CanonicalEntry } from './shared';

type Canonicalize = (
  spec: unknown,
  signatures: SignatureVerifier,
) => CanonicalEntry | Promise<CanonicalEntry>;

const KINDS: Record<string, Record<string, Canonicalize>> = {
  hashedrekord: { '0.0.1': canonicalizeHashedRekord },
  dsse: { '0.0.1': canonicalizeDsse },
};

/**
 * Validates a proposed Rekor v1 entry, verifies its signatures (signatures through `signatures`, possibly on worker threads), returns its canonical body.
 */
export async function canonicalizeProposedEntry(
  proposed: unknown,
  signatures: SignatureVerifier,
): Promise<CanonicalEntry> {
  const entry = field(proposed, '(body)');
  const { kind, apiVersion } = entry;
  if (typeof kind !== 'string' || !(kind in KINDS)) {
    throw invalidEntry(
      `unsupported entry kind ${JSON.stringify(kind)}; supported: ${Object.keys(KINDS).join(', ')}`,
    );
  }
  const handler = typeof apiVersion === 'string' ? KINDS[kind]![apiVersion] : undefined;
  if (!handler) {
    throw invalidEntry(
      `unsupported ${kind} apiVersion ${JSON.stringify(apiVersion)}; supported: ${Object.keys(KINDS[kind]!).join(', ')}`,
    );
  }
  return handler(entry['spec'], signatures);
}
