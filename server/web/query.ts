// The web search's query string: exactly one of email, subject (each optionally with issuer),
// digest (repeatable: a dropped file is searched by its SHA-256 and SHA-512 at once) or package;
// page and perPage. Anything else — an unknown or repeated parameter, a malformed value, control
// characters, overlong text — is a 400 that says what was expected. Each accepted query becomes the
// search keys of the log's index (server/log/index-keys.ts).
import { badRequest } from '../errors';
import { identityKey, packageKey, parsePurl } from '../log/index-keys';

export interface SearchQuery {
  /** What the page shows as the query, normalised. */
  describe: Record<string, string | string[]>;
  /** Entries matching any key are results. */
  keys: string[];
  page: number;
  perPage: number;
}

const ALLOWED = new Set(['email', 'subject', 'issuer', 'digest', 'package', 'page', 'perPage']);
/** C0 and C1 control characters, DEL. */
export function hasControlCharacters(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
const DIGEST_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const NPM_NAME = /^(?:@[a-z0-9][a-z0-9._~-]{0,213}\/)?[a-z0-9._~-][a-z0-9._~-]{0,213}$/i;
const VERSION = /^[0-9A-Za-z.+_-]{1,256}$/;
export const MAX_PER_PAGE = 100;

function text(name: string, value: string, max: number): string {
  if (value.length === 0) throw badRequest(`"${name}" is empty`);
  if (value.length > max) throw badRequest(`"${name}" is longer than ${max} characters`);
  if (hasControlCharacters(value)) throw badRequest(`"${name}" contains control characters`);
  return value;
}

function integer(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^[1-9]\d{0,6}$/.test(raw) || Number(raw) > max)
    throw badRequest(`"${name}" must be an integer from 1 to ${max}`);
  return Number(raw);
}

/** sha256:<hex>, sha384:<hex>, sha512:<hex>, or an SRI integrity string (sha512-<base64>). */
export function normaliseDigest(raw: string): string {
  const value = text('digest', raw.trim(), 256);
  const hex = /^(sha256|sha384|sha512):([0-9a-fA-F]+)$/.exec(value);
  if (hex) {
    if (hex[2]!.length !== DIGEST_HEX[hex[1]!])
      throw badRequest(`a ${hex[1]} digest is ${DIGEST_HEX[hex[1]!]} hex characters, got ${hex[2]!.length}`);
    return `${hex[1]}:${hex[2]!.toLowerCase()}`;
  }
  const sri = /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$/.exec(value);
  if (sri) {
    const bytes = Buffer.from(sri[2]!, 'base64');
    if (bytes.length * 2 === DIGEST_HEX[sri[1]!] && bytes.toString('base64') === sri[2])
      return `${sri[1]}:${bytes.toString('hex')}`;
  }
  throw badRequest(
    '"digest" must be sha256:<64 hex>, sha384:<96 hex>, sha512:<128 hex> or an integrity string (sha512-<base64>)',
  );
}

/** name, name@version, @scope/name@version, or a purl (pkg:npm/%40scope/name@version). */
export function packageKeyOf(raw: string): { key: string; shown: string } {
  const value = text('package', raw.trim(), 1024);
  if (value.startsWith('pkg:')) {
    const ref = parsePurl(value);
    if (!ref) throw badRequest('"package" is not a package URL such as pkg:npm/%40scope/name@1.0.0');
    return { key: packageKey(ref), shown: value };
  }
  const at = value.lastIndexOf('@');
  const name = at > 0 ? value.slice(0, at) : value;
  const version = at > 0 ? value.slice(at + 1) : undefined;
  if (!NPM_NAME.test(name) || (version !== undefined && !VERSION.test(version))) {
    throw badRequest(
      '"package" must be an npm name with an optional version (left-pad, @acme/ui@1.2.0) or a purl',
    );
  }
  return {
    key: packageKey({ type: 'npm', name: name.toLowerCase(), ...(version ? { version } : {}) }),
    shown: value,
  };
}

function issuerOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const issuer = text('issuer', raw.trim(), 2048);
  if (!/^https?:\/\/[\x21-\x7e]+$/.test(issuer)) throw badRequest('"issuer" must be an http(s) URL');
  return issuer;
}

export function parseSearchQuery(params: URLSearchParams): SearchQuery {
  const seen = new Map<string, string[]>();
  for (const [name, value] of params) {
    if (!ALLOWED.has(name))
      throw badRequest(
        `unknown parameter "${name.slice(0, 50)}"; use email, subject, issuer, digest, package, page, perPage`,
      );
    seen.set(name, [...(seen.get(name) ?? []), value]);
  }
  for (const [name, values] of seen) {
    if (values.length > 1 && name !== 'digest') throw badRequest(`"${name}" is given more than once`);
  }
  const one = (name: string) => seen.get(name)?.[0];
  const kinds = ['email', 'subject', 'digest', 'package'].filter((k) => seen.has(k));
  if (kinds.length !== 1) {
    throw badRequest(
      kinds.length === 0
        ? 'give one of "email", "subject", "digest" or "package"'
        : `give only one of "email", "subject", "digest" or "package" (got ${kinds.join(', ')})`,
    );
  }
  const page = integer('page', one('page'), 1, 1_000_000);
  const perPage = integer('perPage', one('perPage'), 20, MAX_PER_PAGE);
  const issuer = issuerOf(one('issuer'));
  if (issuer !== undefined && kinds[0] !== 'email' && kinds[0] !== 'subject')
    throw badRequest('"issuer" qualifies an "email" or "subject" search only');
  const describe: SearchQuery['describe'] = {};
  let keys: string[];
  switch (kinds[0]) {
    case 'email': {
      const email = text('email', one('email')!.trim(), 254).toLowerCase();
      if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw badRequest('"email" must be an email address');
      describe['email'] = email;
      keys = [issuer ? identityKey(issuer, email) : email];
      break;
    }
    case 'subject': {
      const raw = text('subject', one('subject')!.trim(), 2048);
      if (/\s/.test(raw)) throw badRequest('"subject" (a certificate SAN) cannot contain white space');
      const subject = raw.includes('@') && !raw.includes('/') ? raw.toLowerCase() : raw;
      describe['subject'] = subject;
      keys = [issuer ? identityKey(issuer, subject) : subject];
      break;
    }
    case 'digest': {
      const digests = seen.get('digest')!;
      if (digests.length > 4) throw badRequest('at most 4 "digest" values');
      keys = [...new Set(digests.map(normaliseDigest))];
      describe['digest'] = keys;
      break;
    }
    default: {
      const { key, shown } = packageKeyOf(one('package')!);
      describe['package'] = shown;
      keys = [key];
    }
  }
  if (issuer !== undefined) describe['issuer'] = issuer;
  return { describe, keys, page, perPage };
}
