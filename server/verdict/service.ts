// Go/no-go verdicts and the known-bad database, served: `GET /api/v1/verdict?purl=pkg:npm/...&digest=
// sha512:...&nonce=...` answers `go`, `no-go` or `unknown` with its reasons — the database's matches
// (the same knownbad/ matching the plugin does), and the log's own evidence for that digest: the
// bundles of this server's attestation store whose statement names exactly that tarball, verified
// against this server's trusted root (who signed it, when). Answers are DSSE envelopes signed with the
// verdict key (<data>/keys/verdict-key.pem, created once, 0600), published at
// /api/v1/verdict/public-key. The snapshot files it loaded are served under /api/v1/known-bad/, with
// their Sigstore bundles, so `yarn tollgate db update --from <url>` imports the same database.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { basename, join, resolve } from 'node:path';
import {
  ImportProblem,
  importFiles,
  type KnownBadSources,
  matchRelease,
  openIndex,
  PUBLIC_REGISTRY,
  pathFiles,
  signVerdict,
  VERDICT_FORMAT,
  type VerdictAnswer,
} from '../../knownbad';
import { loadTrustRoots, type TrustContext, verifyBundle } from '../../policy/evidence';
import { normalizeRegistryUrl } from '../../policy/registry-url';
import type { AttestationStore } from '../attestations/store';
import { ConfigError, ServerError } from '../errors';
import { sendJson, sendText } from '../http/io';

export interface VerdictServiceOptions {
  dataDir: string;
  /** OSV zips, folders or files (and known-bad.yml lists) to load at start */
  knownBad: readonly string[];
  attestations: AttestationStore;
  trustedRoot: () => Record<string, unknown>;
  log: (message: string) => void;
}

export interface VerdictRoutes {
  /** Answers the request when it is one of this module's endpoints; false otherwise. */
  handle(res: ServerResponse, url: URL, method: string): Promise<boolean>;
}

const KEY_FILE = 'verdict-key.pem';

/** The verdict key, created once beside the instance's other keys. */
export function loadOrCreateVerdictKey(dataDir: string): KeyObject {
  const path = join(dataDir, 'keys', KEY_FILE);
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    try {
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new ConfigError(`cannot create ${path}: ${(err as Error).message}`);
    }
  }
  if ((statSync(path).mode & 0o077) !== 0)
    throw new ConfigError(`${path} is readable by other users; run: chmod 600 ${path}`);
  try {
    return createPrivateKey(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${path} is not a private key (${(err as Error).message}): restore it from backup`);
  }
}

interface Served {
  name: string;
  bytes: Buffer;
  bundle?: Buffer;
}

function parsePurl(raw: string | null): { name: string; version: string; registry?: string } {
  if (!raw)
    throw new ServerError(
      400,
      'BAD_REQUEST',
      'query parameter "purl" is required, e.g. pkg:npm/left-pad@1.3.0',
    );
  const match = /^pkg:npm\/((?:%40|@)[^/@?#]+\/)?([^/@?#]+)@([^?#]+)(\?[^#]*)?$/.exec(raw);
  if (!match)
    throw new ServerError(
      400,
      'BAD_REQUEST',
      `"${raw.slice(0, 200)}" is not an npm purl (pkg:npm/<name>@<version>)`,
    );
  const scope = match[1] ? decodeURIComponent(match[1]) : '';
  const out: { name: string; version: string; registry?: string } = {
    name: `${scope}${decodeURIComponent(match[2]!)}`,
    version: decodeURIComponent(match[3]!),
  };
  const repository = new URLSearchParams(match[4]?.slice(1) ?? '').get('repository_url');
  if (repository) {
    const normalized = normalizeRegistryUrl(
      /^https?:\/\//.test(repository) ? repository : `https://${repository}`,
    );
    if (!('url' in normalized))
      throw new ServerError(400, 'BAD_REQUEST', `repository_url: ${normalized.problem}`);
    out.registry = normalized.url;
  }
  return out;
}

/** `sha512:<hex>` (or an SRI) → the 64 digest bytes. */
function parseDigest(raw: string | null): Buffer | undefined {
  if (raw === null) return undefined;
  const hex = /^sha512:([0-9a-f]{128})$/.exec(raw);
  if (hex) return Buffer.from(hex[1]!, 'hex');
  const sri = /^sha512-([A-Za-z0-9+/]{86}==)$/.exec(raw);
  if (sri) return Buffer.from(sri[1]!, 'base64');
  throw new ServerError(400, 'BAD_REQUEST', '"digest" must be sha512:<128 hex> (the tarball\'s sha512)');
}

export function createVerdictService(options: VerdictServiceOptions): VerdictRoutes {
  const key = loadOrCreateVerdictKey(options.dataDir);
  const publicPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  const now = new Date();
  const sources: KnownBadSources = { indexes: [], lists: [] };
  const served: Served[] = [];
  let records = 0;
  let asOf: string | undefined;
  for (const given of options.knownBad) {
    const path = resolve(given);
    let imported: ReturnType<typeof importFiles>;
    try {
      imported = importFiles(pathFiles(path), { source: basename(path), now });
    } catch (err) {
      if (err instanceof ImportProblem) throw new ConfigError(`--known-bad ${given}: ${err.message}`);
      throw err;
    }
    sources.indexes.push({ index: openIndex(imported.index), label: basename(path) });
    records += imported.header.counts.records;
    asOf = imported.header.asOf;
    options.log(
      `known-bad: loaded ${imported.header.counts.records} record(s) from ${path} (${imported.header.counts.invalid} invalid skipped)`,
    );
    if (statSync(path).isFile()) {
      const bundlePath = `${path}.sigstore.json`;
      served.push({
        name: basename(path),
        bytes: readFileSync(path),
        ...(existsSync(bundlePath) ? { bundle: readFileSync(bundlePath) } : {}),
      });
    }
  }
  let trust: TrustContext | undefined;
  const trustContext = () => {
    trust ??= loadTrustRoots(
      [{ name: 'this server', trustedRootJson: JSON.stringify(options.trustedRoot()) }],
      {
        embeddedNpmKeys: false,
      },
    );
    return trust;
  };

  /** What this server's store and log hold for exactly that tarball, verified. */
  const signaturesFor = (name: string, version: string, sha512: Buffer): VerdictAnswer['signatures'] => {
    let stored: ReturnType<AttestationStore['list']>;
    try {
      stored = options.attestations.list({ name, version });
    } catch {
      return [];
    }
    const out: VerdictAnswer['signatures'] = [];
    for (const attestation of stored) {
      try {
        const facts = verifyBundle(trustContext(), attestation.bundle as object, {
          package: { name, version, sha512 },
        });
        if (!facts.signer) continue;
        out.push({
          kind: facts.kind,
          issuer: facts.signer.issuer,
          subject: facts.signer.subject,
          ...(facts.integratedTime
            ? { integratedTime: new Date(facts.integratedTime * 1000).toISOString() }
            : {}),
          ...(facts.logIndex !== undefined ? { logIndex: facts.logIndex } : {}),
        });
      } catch {
        // A bundle about other bytes says nothing about these.
      }
    }
    return out;
  };

  const verdict = (url: URL): VerdictAnswer => {
    const purl = url.searchParams.get('purl');
    const pkg = parsePurl(purl);
    const digestParam = url.searchParams.get('digest');
    const sha512 = parseDigest(digestParam);
    const nonce = url.searchParams.get('nonce');
    if (nonce !== null && !/^[A-Za-z0-9_-]{1,64}$/.test(nonce))
      throw new ServerError(400, 'BAD_REQUEST', '"nonce" must be 1 to 64 letters, digits, - or _');
    const integrity = sha512 ? `sha512-${sha512.toString('base64')}` : undefined;
    const matches = matchRelease(
      sources,
      {
        name: pkg.name,
        version: pkg.version,
        registries: pkg.registry ? [pkg.registry] : [PUBLIC_REGISTRY],
        ...(integrity ? { integrity } : {}),
      },
      new Date(),
    );
    const signatures = sha512 ? signaturesFor(pkg.name, pkg.version, sha512) : [];
    return {
      format: VERDICT_FORMAT,
      purl: purl!,
      ...(digestParam !== null && sha512 ? { digest: `sha512:${sha512.toString('hex')}` } : {}),
      ...(nonce !== null ? { nonce } : {}),
      verdict: matches.length ? 'no-go' : signatures.length ? 'go' : 'unknown',
      matches,
      signatures,
      database: { ...(asOf ? { asOf } : {}), records, sources: sources.indexes.map((i) => i.label) },
      answeredAt: new Date().toISOString(),
    };
  };

  return {
    async handle(res, url, method) {
      const path = url.pathname;
      if (!path.startsWith('/api/v1/verdict') && !path.startsWith('/api/v1/known-bad')) return false;
      if (method !== 'GET')
        throw new ServerError(405, 'METHOD_NOT_ALLOWED', 'method not allowed; use GET', { Allow: 'GET' });
      if (path === '/api/v1/verdict') {
        sendJson(res, 200, signVerdict(verdict(url), key));
        return true;
      }
      if (path === '/api/v1/verdict/public-key') {
        sendText(res, 200, publicPem, 'application/x-pem-file');
        return true;
      }
      if (path === '/api/v1/known-bad') {
        sendJson(res, 200, {
          records,
          snapshots: served.map((s) => ({
            name: s.name,
            url: `/api/v1/known-bad/${encodeURIComponent(s.name)}`,
            sha512: createHash('sha512').update(s.bytes).digest('hex'),
            signed: s.bundle !== undefined,
          })),
        });
        return true;
      }
      const file = /^\/api\/v1\/known-bad\/([^/]+)$/.exec(path)?.[1];
      const name = file ? decodeURIComponent(file) : '';
      const snapshot = served.find((s) => s.name === name || `${s.name}.sigstore.json` === name);
      if (!snapshot || (name !== snapshot.name && !snapshot.bundle))
        throw new ServerError(404, 'NOT_FOUND', `no known-bad snapshot at ${path}`);
      const body = name === snapshot.name ? snapshot.bytes : snapshot.bundle!;
      res.writeHead(200, {
        'Content-Type': name === snapshot.name ? 'application/octet-stream' : 'application/json',
        'Content-Length': body.length,
      });
      res.end(body);
      return true;
    },
  };
}
