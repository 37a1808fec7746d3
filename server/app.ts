// Routes every endpoint of the single origin to its component. Handlers never see raw sockets
// or unbounded bodies, and every failure leaves as a JSON error with a 4xx status; an
// unexpected exception is logged and answered 500 without taking the process down.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listManyAttestations } from './attestations/batch';
import { type Attacher, type AttestationStore, parsePackageSpec } from './attestations/store';
import { type CertificateAuthority, parseSigningCertRequest } from './ca/authority';
import { ClientAbortError, ServerError } from './errors';
import type { RequestGuard } from './http/guard';
import { readJson, requireJsonContentType, sendError, sendJson, sendText } from './http/io';
import { parseRequestTarget } from './http/target';
import { handleRetrieve } from './log/batch-read';
import { StoredEntryDamagedError, StoreFailedError } from './log/store';
import type { TransparencyLog } from './log/transparency-log';
import { type DevIssuer, parseTokenRequest } from './oidc/dev-issuer';
import { SIGSTORE_AUDIENCE, type TrustedIssuers } from './oidc/trusted-issuers';
import type { VerdictRoutes } from './verdict/service';
import type { WebRoute } from './web/routes';

const KiB = 1024;
const MiB = 1024 * KiB;

export interface AppParts {
  ca: CertificateAuthority;
  issuers: TrustedIssuers;
  tlog: TransparencyLog;
  tlogPublicKeyPem: string;
  attestations: AttestationStore;
  devIssuer: DevIssuer | null;
  trustedRoot: () => Record<string, unknown>;
  /** Who is adding an attestation (loopback peer or bearer token), or null when nobody may. */
  attestationWriter: (req: IncomingMessage) => Attacher | null;
  /** Host and Origin checks applied to every request before routing. */
  guard: RequestGuard;
  /** go/no-go verdicts and the known-bad database (server/verdict/) */
  verdict?: VerdictRoutes;
  /** the web page and its API (server/web/) */
  web?: WebRoute[];
  /** the TUF repository distributing the trusted root and signing config (server/tuf/) */
  tuf?: WebRoute[];
  /** the RFC 3161 timestamp authority (server/tsa/) */
  tsa?: WebRoute[];
  /** the Rekor v2 write API and tile reads (server/log/v2/) */
  rekorV2?: WebRoute[];
  log: (message: string) => void;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, match: RegExpExecArray) => Promise<void>;

const methodNotAllowed = (allowed: string) =>
  new ServerError(405, 'METHOD_NOT_ALLOWED', `method not allowed; use ${allowed}`, { Allow: allowed });

function integerParam(url: URL, name: string, required: boolean): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) {
    if (required) throw new ServerError(400, 'BAD_REQUEST', `query parameter "${name}" is required`);
    return undefined;
  }
  if (!/^\d{1,15}$/.test(raw))
    throw new ServerError(400, 'BAD_REQUEST', `"${name}" must be a non-negative integer`);
  return Number(raw);
}

export function createApp(parts: AppParts): (req: IncomingMessage, res: ServerResponse) => void {
  const routes: { pattern: RegExp; methods: Record<string, Handler> }[] = [
    {
      pattern: /^\/trusted_root\.json$/,
      methods: { GET: async (_q, res) => sendJson(res, 200, parts.trustedRoot()) },
    },
    {
      pattern: /^\/api\/v2\/signingCert$/,
      methods: {
        POST: async (req, res) => {
          const request = parseSigningCertRequest(await readJson(req, 64 * KiB));
          const chain = await parts.ca.issue(request);
          sendJson(res, 201, { signedCertificateEmbeddedSct: { chain: { certificates: chain } } });
        },
      },
    },
    {
      pattern: /^\/api\/v2\/trustBundle$/,
      methods: {
        GET: async (_q, res) => sendJson(res, 200, { chains: [{ certificates: parts.ca.chainPem() }] }),
      },
    },
    {
      pattern: /^\/api\/v2\/configuration$/,
      methods: {
        GET: async (_q, res) =>
          sendJson(res, 200, {
            issuers: parts.issuers.urls.map((issuerUrl) => ({ issuerUrl, audience: SIGSTORE_AUDIENCE })),
          }),
      },
    },
    {
      pattern: /^\/api\/v1\/log\/entries$/,
      methods: {
        POST: async (req, res) => {
          const { uuid, entry } = await parts.tlog.add(await readJson(req, 4 * MiB));
          sendJson(res, 201, { [uuid]: entry }, { Location: `/api/v1/log/entries/${uuid}`, ETag: uuid });
        },
        GET: async (_q, res, url) => {
          const index = integerParam(url, 'logIndex', true)!;
          const { uuid, entry } = parts.tlog.entryByIndex(index);
          sendJson(res, 200, { [uuid]: entry });
        },
      },
    },
    {
      // Before the UUID route, which would take "retrieve" for a UUID.
      pattern: /^\/api\/v1\/log\/entries\/retrieve$/,
      methods: { POST: async (req, res, url) => handleRetrieve(parts.tlog, req, res, url) },
    },
    {
      pattern: /^\/api\/v1\/log\/entries\/([^/]+)$/,
      methods: {
        GET: async (_q, res, _u, match) => {
          const { uuid, entry } = parts.tlog.entryByUuid(match[1]!);
          sendJson(res, 200, { [uuid]: entry });
        },
      },
    },
    {
      pattern: /^\/api\/v1\/log$/,
      methods: { GET: async (_q, res) => sendJson(res, 200, parts.tlog.info()) },
    },
    {
      pattern: /^\/api\/v1\/log\/publicKey$/,
      methods: {
        GET: async (_q, res) => sendText(res, 200, parts.tlogPublicKeyPem, 'application/x-pem-file'),
      },
    },
    {
      pattern: /^\/api\/v1\/log\/proof$/,
      methods: {
        GET: async (_q, res, url) => {
          const lastSize = integerParam(url, 'lastSize', true)!;
          const firstSize = integerParam(url, 'firstSize', false) ?? 1;
          sendJson(res, 200, parts.tlog.consistency(firstSize, lastSize));
        },
      },
    },
    {
      pattern: /^\/api\/v1\/index\/retrieve$/,
      methods: {
        POST: async (req, res) => sendJson(res, 200, parts.tlog.retrieve(await readJson(req, 64 * KiB))),
      },
    },
    {
      pattern: /^\/oidc\/\.well-known\/openid-configuration$/,
      methods: { GET: async (_q, res) => sendJson(res, 200, devIssuerOf(parts).discovery()) },
    },
    {
      pattern: /^\/oidc\/jwks$/,
      methods: { GET: async (_q, res) => sendJson(res, 200, await devIssuerOf(parts).jwks()) },
    },
    {
      pattern: /^\/oidc\/token$/,
      methods: {
        POST: async (req, res) => {
          const issuer = devIssuerOf(parts);
          const token = await issuer.mint(parseTokenRequest(await readJson(req, 64 * KiB)));
          sendJson(res, 200, { id_token: token, token_type: 'Bearer' });
        },
      },
    },
    {
      pattern: /^\/-\/npm\/v1\/attestations\/(.+)$/,
      methods: {
        GET: async (_q, res, _u, match) => {
          sendJson(res, 200, { attestations: parts.attestations.list(parsePackageSpec(match[1]!)) });
        },
        PUT: async (req, res, _u, match) => addAttestation(parts, req, res, match[1]!),
        POST: async (req, res, _u, match) => addAttestation(parts, req, res, match[1]!),
      },
    },
    {
      pattern: /^\/-\/tollgate\/v1\/attestations$/,
      methods: {
        POST: async (req, res) =>
          sendJson(res, 200, listManyAttestations(parts.attestations, await readJson(req, 1 * MiB))),
      },
    },
    ...(parts.web ?? []),
    ...(parts.tuf ?? []),
    ...(parts.tsa ?? []),
    ...(parts.rekorV2 ?? []),
  ];

  return (req, res) => {
    const started = (async () => {
      parts.guard.check(req);
      const url = parseRequestTarget(req.url);
      for (const route of routes) {
        const match = route.pattern.exec(url.pathname);
        if (!match) continue;
        const handler = route.methods[req.method ?? ''];
        if (!handler) throw methodNotAllowed(Object.keys(route.methods).join(', '));
        if (req.method === 'POST' || req.method === 'PUT') requireJsonContentType(req);
        await handler(req, res, url, match);
        return;
      }
      if (parts.verdict && (await parts.verdict.handle(res, url, req.method ?? ''))) return;
      throw new ServerError(404, 'NOT_FOUND', `no endpoint at ${url.pathname}`);
    })();
    started.catch((err: unknown) => {
      if (err instanceof ServerError) {
        sendError(res, err);
        // The body of a refused request is drained, so that the client reads the answer.
        req.resume();
        return;
      }
      const what = `${req.method} ${JSON.stringify((req.url ?? '').slice(0, 200))}`;
      if (err instanceof ClientAbortError) {
        parts.log(`client aborted ${what} before its request was complete`);
        res.destroy();
        return;
      }
      // Storage faults are the operator's to fix: one line in the log, a 5xx that says so.
      if (err instanceof StoredEntryDamagedError || err instanceof StoreFailedError) {
        parts.log(`${what}: ${err.message}`);
        sendError(
          res,
          err instanceof StoredEntryDamagedError
            ? new ServerError(500, 'STORAGE_DAMAGED', err.message)
            : new ServerError(503, 'UNAVAILABLE', err.message),
        );
        return;
      }
      parts.log(`internal error on ${what}: ${(err as Error)?.stack ?? String(err)}`);
      sendError(res, new ServerError(500, 'UNAVAILABLE', 'internal error; see the server log'));
    });
  };
}

function devIssuerOf(parts: AppParts): DevIssuer {
  if (!parts.devIssuer)
    throw new ServerError(404, 'NOT_FOUND', 'the development OIDC issuer is disabled on this server');
  return parts.devIssuer;
}

async function addAttestation(
  parts: AppParts,
  req: IncomingMessage,
  res: ServerResponse,
  spec: string,
): Promise<void> {
  const attacher = parts.attestationWriter(req);
  if (!attacher) {
    throw new ServerError(
      403,
      'FORBIDDEN',
      'adding attestations needs a loopback connection to a loopback server or "Authorization: Bearer <token>" matching --attestation-token-file',
    );
  }
  const pkg = parsePackageSpec(spec);
  const { created, attestation } = await parts.attestations.add(pkg, await readJson(req, 8 * MiB), attacher);
  sendJson(res, created ? 201 : 200, { attestations: [attestation] });
}
