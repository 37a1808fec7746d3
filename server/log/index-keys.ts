// The search keys that make the web page's searches one index lookup each (see server/web/):
// a signer identity qualified by its OIDC issuer, and the packages an in-toto statement names.
// They are stored, hashed, with every entry (record-codec's search digests) like the SAN and
// digest keys Rekor's own search uses, so the index is rebuilt from entries.log on start.
//
// Keys are prefixed so that no attacker-chosen text of one kind can equal a key of another:
//   identity:<issuer>\n<SAN>            (SAN emails lower-cased, URIs as written)
//   package:<type>/<namespace/name>@<version>   and   package:<type>/<namespace/name>
import type { X509Certificate } from '@sigstore/core';
import { signerIdentity } from '../../policy/evidence/identity';

export function identityKey(issuer: string, subject: string): string {
  const san = subject.includes('@') && !subject.includes('/') ? subject.toLowerCase() : subject;
  return `identity:${issuer}\n${san}`;
}

/** The issuer-qualified identity key of a Fulcio-style certificate, or none when it names no issuer. */
export function certificateIdentityKeys(cert: X509Certificate): string[] {
  try {
    const identity = signerIdentity(cert);
    return [identityKey(identity.issuer, identity.subject)];
  } catch {
    return [];
  }
}

export interface PackageRef {
  /** purl type, lower case: npm, pypi, generic ... */
  type: string;
  /** namespace/name, percent-decoded: "@acme/ui", "left-pad" */
  name: string;
  version?: string;
}

const PURL = /^pkg:([a-zA-Z][a-zA-Z0-9.+-]{0,31})\/([^?#]+)$/;

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** A package URL (pkg:type/namespace/name@version, qualifiers and subpath ignored). */
export function parsePurl(purl: string): PackageRef | undefined {
  if (purl.length > 1024) return undefined;
  const match = PURL.exec(purl.replace(/[?#].*$/, ''));
  if (!match) return undefined;
  const type = match[1]!.toLowerCase();
  const path = match[2]!;
  const at = path.lastIndexOf('@');
  const rawName = at > 0 ? path.slice(0, at) : path;
  const rawVersion = at > 0 ? path.slice(at + 1) : undefined;
  const name = decode(rawName);
  const version = rawVersion === undefined ? undefined : decode(rawVersion);
  if (!name || name.includes('\n') || (rawVersion !== undefined && !version)) return undefined;
  return { type, name, ...(version ? { version } : {}) };
}

export function packageKey(ref: PackageRef): string {
  return `package:${ref.type}/${ref.name}${ref.version === undefined ? '' : `@${ref.version}`}`;
}

/** Keys for the purls among an in-toto statement's subject names: with and without the version. */
export function statementPackageKeys(subjects: unknown[]): string[] {
  const keys: string[] = [];
  for (const subject of subjects.slice(0, 1024)) {
    const name = (subject as { name?: unknown })?.name;
    if (typeof name !== 'string') continue;
    const ref = parsePurl(name);
    if (!ref) continue;
    keys.push(packageKey({ type: ref.type, name: ref.name }));
    if (ref.version !== undefined) keys.push(packageKey(ref));
  }
  return keys;
}
