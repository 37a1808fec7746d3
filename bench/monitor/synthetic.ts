// Synthetic log bodies for the monitor bench: real dsse 0.0.1 canonical bodies (each with the real
// Fulcio certificate of one of several identities, as tollgate-server logged them), given fresh
// payload and envelope hashes so that every leaf is distinct. Rekor verified the signatures when it
// admitted the originals; a monitor does not verify entry signatures, so the copies read the same.
import { createHash } from 'node:crypto';
import { json } from '@sigstore/core';

// biome-ignore lint/suspicious/noExplicitAny: canonical Rekor bodies, edited field by field
type Body = Record<string, any>;

const parsed = new Map<string, Body>();

export function syntheticBody(
  templates: readonly string[],
  i: number,
  template = i % templates.length,
): Buffer {
  const text = templates[template]!;
  let body = parsed.get(text);
  if (!body) {
    body = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as Body;
    parsed.set(text, body);
  }
  const seed = createHash('sha256').update(`bench entry ${i}`).digest('hex');
  const copy = structuredClone(body);
  copy['spec']['payloadHash']['value'] = seed;
  copy['spec']['envelopeHash']['value'] = createHash('sha256').update(seed).digest('hex');
  return Buffer.from(json.canonicalize(copy), 'utf8');
}
