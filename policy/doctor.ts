// `yarn tollgate doctor`, the checks that need only the policy, its pins, the installed package names,
// trust-root documents and TUF metadata: what silently weakens protection now, or will soon. Pure: facts
// and the clock in, findings out. The plugin adds the checks of Yarn's own settings and the plugin bundle.
import { formatLocation } from './diagnostics';
import type { Policy } from './model';
import type { Pins } from './pins';

/** Every kind of doctor finding; the plugin gives each a stable YN91xx message code. */
export const DOCTOR_CHECKS = [
  'scripts-unrestricted',
  'age-gate-off',
  'git-any-repository',
  'checksum-behavior',
  'mode-override-rc',
  'mode-override-env',
  'plugin-bundle',
  'trust-root-expiry',
  'tuf-metadata-expired',
  'exception-expiry',
  'stale-pin',
] as const;

export type DoctorCheck = (typeof DOCTOR_CHECKS)[number];

export interface DoctorFinding {
  check: DoctorCheck;
  /** error: protection is weaker now (exit 1); warning: it will be soon, or something is left over */
  severity: 'error' | 'warning';
  /** what it is about: a setting, `exceptions[2]`, a trust root, a package */
  subject: string;
  /** where: file:line:column, a settings file, or `<environment>` */
  where: string;
  message: string;
  /** one line: what to do */
  fix: string;
}

const DAY = 86_400_000;
/** An exception that ends within this many days is announced. */
export const EXCEPTION_NOTICE_DAYS = 14;
/** A trust-root key whose validity ends within this many days is announced. */
export const TRUST_KEY_NOTICE_DAYS = 30;

const day = (d: Date) => d.toISOString().slice(0, 10);
const daysBetween = (from: Date, to: Date) => Math.ceil((to.getTime() - from.getTime()) / DAY);

/** Exceptions that already ended (an install now fails on them) or end within `noticeDays`. */
export function checkExceptions(
  policy: Policy,
  now: Date,
  noticeDays = EXCEPTION_NOTICE_DAYS,
): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  for (const e of policy.exceptions) {
    const left = e.expiresAt.getTime() - now.getTime();
    if (left > noticeDays * DAY) continue;
    const what = `the exception for ${e.package.pattern}@${e.versions} (${e.reason})`;
    const expired = left <= 0;
    out.push({
      check: 'exception-expiry',
      severity: expired ? 'error' : 'warning',
      subject: `exceptions[${e.index}]`,
      where: formatLocation(e.location),
      message: expired
        ? `${what} expired on ${e.expires}: installs of the package are denied for what it waived`
        : `${what} expires on ${e.expires}, in ${daysBetween(now, e.expiresAt)} day(s)`,
      fix: `fix what it waives (e.g. upgrade ${e.package.pattern}), then delete exceptions[${e.index}]; or, after review, move its expires date`,
    });
  }
  return out;
}

/** Pinned packages that yarn.lock no longer installs: their pins protect nothing and hide history. */
export function checkStalePins(
  pins: Pins,
  installed: ReadonlySet<string>,
  pinsFile: string,
): DoctorFinding[] {
  return Object.keys(pins.packages)
    .filter((name) => !installed.has(name))
    .sort()
    .map((name) => ({
      check: 'stale-pin' as const,
      severity: 'warning' as const,
      subject: name,
      where: pinsFile,
      message: `${pinsFile} pins ${name}, which yarn.lock no longer installs: if it comes back, the identity pinned long ago decides`,
      fix: `remove "${name}" from ${pinsFile} (the next install pins it afresh if it is added again)`,
    }));
}

interface Validity {
  start?: string;
  end?: string;
}

interface TrustedRootDocument {
  certificateAuthorities?: Array<{ uri?: string; validFor?: Validity }>;
  tlogs?: Array<{ baseUrl?: string; publicKey?: { validFor?: Validity } }>;
}

/**
 * A trust root whose certificate authorities, or transparency-log keys, all end (validFor.end) before
 * now, or within `noticeDays`: signatures made after that cannot be verified with it, and a root nobody
 * refreshed keeps trusting keys its operator may have retired. A kind with one open-ended key is fine.
 */
export function checkTrustedRootExpiry(
  name: string,
  origin: string,
  trustedRootJson: string,
  now: Date,
  noticeDays = TRUST_KEY_NOTICE_DAYS,
): DoctorFinding[] {
  let doc: TrustedRootDocument;
  try {
    doc = JSON.parse(trustedRootJson) as TrustedRootDocument;
  } catch {
    return [];
  }
  const out: DoctorFinding[] = [];
  const kinds: Array<[label: string, validities: Array<Validity | undefined>]> = [
    ['certificate authorities', (doc.certificateAuthorities ?? []).map((ca) => ca?.validFor)],
    ['transparency-log keys', (doc.tlogs ?? []).map((t) => t?.publicKey?.validFor)],
  ];
  for (const [label, validities] of kinds) {
    if (validities.length === 0) continue;
    let latest: Date | null = null;
    let openEnded = false;
    for (const v of validities) {
      const end = v?.end ? new Date(v.end) : null;
      if (!end || Number.isNaN(end.getTime())) {
        openEnded = true;
        break;
      }
      if (!latest || end > latest) latest = end;
    }
    if (openEnded || !latest) continue;
    const left = latest.getTime() - now.getTime();
    if (left > noticeDays * DAY) continue;
    const expired = left <= 0;
    out.push({
      check: 'trust-root-expiry',
      severity: expired ? 'error' : 'warning',
      subject: `trust root "${name}"`,
      where: origin,
      message: expired
        ? `trust root "${name}": every one of its ${label} stopped being valid on ${day(latest)}: nothing signed since can be verified, and the root is stale`
        : `trust root "${name}": its ${label} stop being valid on ${day(latest)}, in ${daysBetween(now, latest)} day(s)`,
      fix: `get a current trusted_root.json from the operator of "${name}" (for a TUF root: \`yarn tollgate trust update ${name}\`) and commit it`,
    });
  }
  return out;
}

/** The last verified TUF metadata of one repository, as its cache holds it (JSON texts by role). */
export interface TufCacheSnapshot {
  name: string;
  metadataUrl: string;
  verifiedAt: Date;
  metadata: Partial<Record<'root' | 'timestamp' | 'snapshot' | 'targets', string>>;
}

/**
 * A TUF cache whose metadata has expired: the trust root in use is the copy last verified, and
 * whatever the repository's operator rotated or revoked since is not known here.
 */
export function checkTufMetadata(
  snapshot: TufCacheSnapshot,
  now: Date,
  /** whether installs refresh this root when its timestamp expired (a policy root, online) */
  refreshedByInstalls = false,
): DoctorFinding[] {
  const expired: string[] = [];
  for (const role of ['timestamp', 'snapshot', 'targets', 'root'] as const) {
    const text = snapshot.metadata[role];
    if (text === undefined) continue;
    let expires: Date | null = null;
    try {
      const value = (JSON.parse(text) as { signed?: { expires?: unknown } }).signed?.expires;
      expires = typeof value === 'string' ? new Date(value) : null;
    } catch {}
    if (expires && !Number.isNaN(expires.getTime()) && expires <= now)
      expired.push(`${role} expired ${expires.toISOString()}`);
  }
  if (expired.length === 0) return [];
  return [
    {
      check: 'tuf-metadata-expired',
      severity: refreshedByInstalls ? 'warning' : 'error',
      subject: `trust root "${snapshot.name}"`,
      where: snapshot.metadataUrl,
      message: `trust root "${snapshot.name}": the TUF metadata last verified ${day(snapshot.verifiedAt)} has expired (${expired.join(', ')}): ${refreshedByInstalls ? `installs refresh it when they reach ${snapshot.metadataUrl}, and until one does they use a copy` : 'installs never refresh it, so they use a copy'} that may still trust keys its repository has since rotated or revoked`,
      fix: `run \`yarn tollgate trust update ${snapshot.name}\` where ${snapshot.metadataUrl} can be reached`,
    },
  ];
}
