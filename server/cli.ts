// tollgate-server: runs the bundled CA, transparency log, dev OIDC issuer and attestation store.
// When ready it prints exactly one JSON line to stdout:
//   {"url":"http://127.0.0.1:PORT","trustedRoot":"<url>/trusted_root.json","dataDir":"<abs path>"}
// Everything else goes to stderr. SIGINT/SIGTERM stop it cleanly with exit code 0.
// `tollgate-server verify` and `tollgate-server repair` check and restore a data folder (see
// maintenance.ts). Exit codes: 0 fine, 1 unexpected error or a repair that failed, 2 usage or
// configuration, 3 a log that fails its integrity checks, 4 a data folder in use.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadTrustedIssuer, StartupError, startServer } from './index';
import { isVerifyWorker, runVerifyWorker } from './log/verify-pool';
import { type MaintenanceOutcome, repairDataFolder, verifyDataFolder } from './maintenance';
import { runTufCommand, TUF_USAGE } from './tuf/cli';

// Bundled (dist/tollgate-server.cjs) this file is CommonJS and knows its own path: the
// verification workers run this same bundle. From source (tsx, ESM) there is none.
const ownBundle = typeof __filename === 'string' && __filename.endsWith('.cjs') ? __filename : undefined;

const USAGE = `usage: tollgate-server [--data DIR] [--host 127.0.0.1] [--port 0] [--allow-host NAME ...]
                       [--trust-issuer ISSUER_URL=JWKS_FILE ...]
                       [--trust-issuer-with-ci-claims ISSUER_URL=JWKS_FILE ...] [--no-dev-oidc]
                       [--attestation-token-file FILE] [--verify-threads N] [--known-bad PATH ...]
                       [--dangerously-allow-dev-oidc-on-non-loopback]

  --data DIR                 state folder (keys, logs, attestations); default ./.tollgate-server
  --host HOST                interface to listen on; default 127.0.0.1
  --port PORT                port; default 0 (any free port)
  --allow-host NAME          also answer requests whose Host header is NAME:PORT (besides 127.0.0.1,
                             localhost, [::1] and --host); other names are refused (DNS rebinding)
  --trust-issuer URL=FILE    also accept identity tokens from this OIDC issuer, verified with the JWKS in FILE;
                             its GitHub-Actions-style claims (repository, workflow, ref, ...) are not put in
                             certificates, unless URL is GitHub Actions' issuer
  --trust-issuer-with-ci-claims URL=FILE
                             the same, for an issuer that defines those claims as GitHub Actions does (a CI
                             system): they become the workflow SAN and Fulcio extensions 1.3.6.1.4.1.57264.1.9-.22
  --no-dev-oidc              do not serve the development OIDC issuer under /oidc
  --attestation-token-file F bearer token (file content) that authorizes adding attestations remotely
  --verify-threads N         worker threads checking hashedrekord signatures; default: cores - 1 (at most 4);
                             0 checks them on the thread that serves HTTP
  --known-bad PATH           OSV records (zip, folder, file; known-bad.yml lists inside) the go/no-go endpoint
                             GET /api/v1/verdict consults and /api/v1/known-bad serves (a file with its
                             <file>.sigstore.json bundle is served as a signed snapshot)
  --dangerously-allow-dev-oidc-on-non-loopback
                             serve the development issuer, which mints ANY identity, on a non-loopback host

       tollgate-server verify --data DIR
                             check every checkpoint each log has committed to against its entries (exit 0 or 3)
       tollgate-server repair --data DIR --from COPY
                             restore the logs that fail those checks from COPY, a copy of the data folder
                             (exit 0, or 1 when COPY cannot satisfy them: nothing is changed then)
${TUF_USAGE}`;

function runMaintenance(command: string, argv: string[]): void {
  let values: { data?: string; from?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { data: { type: 'string' }, from: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  if (!values.data) fail(`${command} needs --data DIR`);
  let outcome: MaintenanceOutcome;
  if (command === 'verify') {
    if (values.from) fail('verify takes no --from; did you mean repair?');
    outcome = verifyDataFolder(values.data);
  } else {
    if (!values.from) fail('repair needs --from COPY, a copy of the data folder to restore the logs from');
    outcome = repairDataFolder(values.data, values.from);
  }
  for (const line of outcome.lines) process.stdout.write(`${line}\n`);
  process.exit(outcome.ok ? 0 : command === 'verify' ? 3 : 1);
}

function fail(message: string): never {
  process.stderr.write(`tollgate-server: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const command = process.argv[2];
  if (command === 'verify' || command === 'repair') return runMaintenance(command, process.argv.slice(3));
  if (command === 'tuf') return runTufCommand(process.argv.slice(3), (text) => process.stdout.write(text));
  let args: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      options: {
        data: { type: 'string', default: '.tollgate-server' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        'allow-host': { type: 'string', multiple: true, default: [] },
        'trust-issuer': { type: 'string', multiple: true, default: [] },
        'trust-issuer-with-ci-claims': { type: 'string', multiple: true, default: [] },
        'no-dev-oidc': { type: 'boolean', default: false },
        'attestation-token-file': { type: 'string' },
        'verify-threads': { type: 'string' },
        'known-bad': { type: 'string', multiple: true, default: [] },
        'dangerously-allow-dev-oidc-on-non-loopback': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  }
  try {
    args = parse();
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  const { values } = args;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535)
    fail(`--port must be 0 to 65535, got "${values.port}"`);
  const threads = values['verify-threads'];
  if (threads !== undefined && (!/^\d{1,2}$/.test(threads) || Number(threads) > 16))
    fail(`--verify-threads must be 0 to 16, got "${threads}"`);
  for (const name of values['allow-host']) {
    if (!/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?)+$|^\[[0-9a-f:.]+\]$/i.test(name) || name.length > 253)
      fail(`--allow-host expects a host name or an IP address without a port, got "${name}"`);
  }
  let attestationToken: string | undefined;
  if (values['attestation-token-file']) {
    try {
      attestationToken = readFileSync(values['attestation-token-file'], 'utf8').trim();
    } catch (err) {
      fail(`cannot read --attestation-token-file: ${(err as Error).message}`);
    }
    if (!attestationToken || attestationToken.length < 16)
      fail('the attestation token must be at least 16 characters');
  }
  const server = await startServer({
    dataDir: values.data,
    host: values.host,
    port: Number(values.port),
    allowedHosts: values['allow-host'],
    devIssuer: !values['no-dev-oidc'],
    dangerouslyAllowDevIssuerOnNonLoopback: values['dangerously-allow-dev-oidc-on-non-loopback'],
    trustedIssuers: [
      ...values['trust-issuer'].map((spec) => loadTrustedIssuer(spec)),
      ...values['trust-issuer-with-ci-claims'].map((spec) => loadTrustedIssuer(spec, { ciClaims: true })),
    ],
    ...(attestationToken ? { attestationToken } : {}),
    ...(ownBundle ? { verifyWorkerEntry: ownBundle } : {}),
    ...(threads !== undefined ? { verifyThreads: Number(threads) } : {}),
    knownBad: values['known-bad'],
  });
  if (values['dangerously-allow-dev-oidc-on-non-loopback'] && server.devIssuerUrl) {
    process.stderr.write(
      `tollgate-server: WARNING: the development OIDC issuer at ${server.devIssuerUrl} mints ANY identity for anyone who can reach it\n`,
    );
  }
  // Installed before the ready line: a supervisor may signal as soon as it reads it.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`tollgate-server: ${signal} received, finishing in-flight requests\n`);
    server.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`tollgate-server: error while stopping: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.stdout.write(
    `${JSON.stringify({ url: server.url, trustedRoot: server.trustedRootUrl, tuf: server.tufUrl, dataDir: server.dataDir })}\n`,
  );
}

if (isVerifyWorker()) runVerifyWorker();
else
  main().catch((err: unknown) => {
    if (err instanceof StartupError) {
      process.stderr.write(`tollgate-server: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`tollgate-server: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
