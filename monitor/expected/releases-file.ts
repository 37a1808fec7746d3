// A releases file: the releases a publisher expects, as name@version and/or artifact digests.
//   releases:
//     - acme-utils@1.2.0
//     - "@acme/ui@2.0.0"
//     - sha256:<hex>            # an artifact (hashedrekord) or a DSSE payload digest
//     - sha512-<base64>         # an npm integrity
// YAML or JSON; a bare list is accepted too. Errors are located like the configuration's.
import { readFileSync } from 'node:fs';
import { type Diagnostic, formatDiagnostic } from '../../policy/diagnostics';
import { parseYamlSource } from '../../policy/source';
import { MonitorUsageError } from '../errors';

export interface ReleasesFile {
  /** "name@version" */
  releases: Set<string>;
  /** "sha256:<hex>" / "sha512:<hex>", lower-case */
  digests: Set<string>;
}

const RELEASE = /^((?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*)@([0-9A-Za-z.+-]+)$/;

export function parseReleasesFile(text: string, display: string): ReleasesFile | { errors: Diagnostic[] } {
  const source = parseYamlSource(text, display);
  if (source.errors.length) return { errors: source.errors };
  const data = source.data as unknown;
  const list = Array.isArray(data) ? data : (data as { releases?: unknown } | null)?.releases;
  const base = Array.isArray(data) ? [] : ['releases'];
  if (!Array.isArray(list)) {
    return {
      errors: [
        {
          ...source.locate([]),
          code: 'missing-key',
          severity: 'error',
          field: 'releases',
          message: 'a releases file lists releases under "releases:"',
          suggestion: 'releases: [acme-utils@1.2.0, "sha256:<hex>"]',
        },
      ],
    };
  }
  const errors: Diagnostic[] = [];
  const releases = new Set<string>();
  const digests = new Set<string>();
  list.forEach((item, i) => {
    const text = typeof item === 'string' ? item.trim() : undefined;
    if (text !== undefined && RELEASE.test(text)) releases.add(text);
    else if (text !== undefined && /^(sha256|sha384|sha512):[0-9a-fA-F]{64,128}$/.test(text))
      digests.add(text.toLowerCase());
    else if (text !== undefined && /^sha512-[A-Za-z0-9+/]{86}==$/.test(text))
      digests.add(`sha512:${Buffer.from(text.slice(7), 'base64').toString('hex')}`);
    else {
      errors.push({
        ...source.locate([...base, i]),
        code: 'invalid-value',
        severity: 'error',
        field: `${base.length ? 'releases' : ''}[${i}]`,
        message: 'not a release',
        expected: 'name@version, sha256:<hex> or sha512-<base64 integrity>',
        found: JSON.stringify(item),
      });
    }
  });
  return errors.length ? { errors } : { releases, digests };
}

export function readReleasesFile(path: string, display: string): ReleasesFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MonitorUsageError(
      'RELEASES_FILE_INVALID',
      `the releases file ${display} cannot be read (${(err as NodeJS.ErrnoException).code}); create it or fix the path in the configuration`,
    );
  }
  const parsed = parseReleasesFile(text, display);
  if ('errors' in parsed) {
    throw new MonitorUsageError(
      'RELEASES_FILE_INVALID',
      `the releases file ${display} is invalid`,
      parsed.errors.map(formatDiagnostic),
    );
  }
  return parsed;
}
