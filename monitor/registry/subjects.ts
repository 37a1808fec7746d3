// Naming what a logged signature was over. Rekor's dsse and intoto entries record only the sha256
// of the DSSE payload, never the in-toto statement; a statement whose bytes hash to that value is
// the one that was signed, wherever it was found (the log's stored attestation, a registry's or a
// store's attestations). hashedrekord entries record the artifact's digest, which names a version
// when it equals a tarball's digest the monitor knows.
import { createHash } from 'node:crypto';
import type { SubjectSummary } from '../findings';

export interface NamedSubject extends SubjectSummary {
  /** set when the subject is an npm package URL */
  package?: { name: string; version: string };
}

const PURL = /^pkg:npm\/((?:%40|@)[^/@]+\/)?([^/@]+)@(.+)$/;

export function parseNpmPurl(purl: string): { name: string; version: string } | undefined {
  const match = PURL.exec(purl);
  if (!match) return undefined;
  const scope = match[1]
    ? `@${decodeURIComponent(match[1].replace(/^(%40|@)/, '')).replace(/\/$/, '')}/`
    : '';
  return { name: `${scope}${decodeURIComponent(match[2]!)}`, version: decodeURIComponent(match[3]!) };
}

/** The subjects of an in-toto statement (the DSSE payload bytes). */
export function statementSubjects(payload: Buffer, from: string): NamedSubject[] | undefined {
  let statement: unknown;
  try {
    statement = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  const subjects = (statement as { subject?: unknown })?.subject;
  if (!Array.isArray(subjects)) return undefined;
  return subjects.slice(0, 64).flatMap((s): NamedSubject[] => {
    const name = (s as { name?: unknown })?.name;
    const digest = (s as { digest?: unknown })?.digest;
    if (typeof name !== 'string') return [];
    const named: NamedSubject = {
      name,
      digest: typeof digest === 'object' && digest !== null ? (digest as Record<string, string>) : {},
      from,
    };
    const pkg = parseNpmPurl(name);
    if (pkg) named.package = pkg;
    return [named];
  });
}

/** The DSSE payload of a bundle JSON and its sha256 hex, when the bundle carries one. */
export function bundlePayload(json: string): { payload: Buffer; sha256: string } | undefined {
  try {
    const payload = (JSON.parse(json) as { dsseEnvelope?: { payload?: unknown } })?.dsseEnvelope?.payload;
    if (typeof payload !== 'string') return undefined;
    const bytes = Buffer.from(payload, 'base64');
    return { payload: bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch {
    return undefined;
  }
}

export class SubjectIndex {
  private readonly byPayload = new Map<string, NamedSubject[]>();
  private readonly byDigest = new Map<string, NamedSubject>();

  addPayload(sha256: string, payload: Buffer, from: string): void {
    if (this.byPayload.has(sha256)) return;
    const subjects = statementSubjects(payload, from);
    if (subjects) this.byPayload.set(sha256, subjects);
  }

  /** Known payload hashes of a version (from the state), resolved to that version. */
  addKnownPayload(sha256: string, name: string, version: string, from: string): void {
    if (this.byPayload.has(sha256)) return;
    this.byPayload.set(sha256, [
      { name: `pkg:npm/${name}@${version}`, digest: {}, from, package: { name, version } },
    ]);
  }

  addTarballDigest(algorithm: string, hex: string, name: string, version: string, from: string): void {
    this.byDigest.set(`${algorithm}:${hex}`, {
      name: `pkg:npm/${name}@${version}`,
      digest: { [algorithm]: hex },
      from,
      package: { name, version },
    });
  }

  payload(sha256: string): NamedSubject[] | undefined {
    return this.byPayload.get(sha256);
  }

  artifact(algorithm: string, hex: string): NamedSubject | undefined {
    return this.byDigest.get(`${algorithm}:${hex}`);
  }
}
