// tollgate-conformance: the Sigstore client conformance protocol's verify-bundle command.
//   verify-bundle --bundle FILE --certificate-identity ID --certificate-oidc-issuer URL [--trusted-root FILE] FILE_OR_DIGEST
//   verify-bundle --bundle FILE --key KEY [--trusted-root FILE] FILE_OR_DIGEST
// FILE_OR_DIGEST is an artifact path or "sha256:<hex>". Exit 0 only when the bundle verifies, through
// the same code path Tollgate uses for packages, and (keyless) the identity and issuer match exactly.
import type { Artifact } from './bundle/artifact';
import { verifyBundle } from './bundle/verify-bundle';
import { EvidenceError, TrustConfigError } from './error';
import { FileInputError, loadBundleFile, loadTrustedRootFile, readInputFile } from './files';
import { loadTrustRoots, PUBLIC_GOOD, type TrustOptions, type TrustRootSpec } from './trust/context';

const USAGE = `usage:
  tollgate-conformance verify-bundle --bundle FILE --certificate-identity ID --certificate-oidc-issuer URL [--trusted-root FILE] FILE_OR_DIGEST
  tollgate-conformance verify-bundle --bundle FILE --key KEY [--trusted-root FILE] FILE_OR_DIGEST`;

class UsageError extends Error {}

interface Args {
  bundle: string;
  identity?: string;
  issuer?: string;
  key?: string;
  trustedRoot?: string;
  artifact: string;
}

function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (command !== 'verify-bundle') throw new UsageError(`unknown command "${command ?? ''}"`);
  const flags: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg.startsWith('--')) {
      const value = rest[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      flags[arg.slice(2)] = value;
    } else positional.push(arg);
  }
  const known = ['bundle', 'certificate-identity', 'certificate-oidc-issuer', 'key', 'trusted-root'];
  const unknown = Object.keys(flags).filter((f) => !known.includes(f));
  if (unknown.length) throw new UsageError(`unknown option --${unknown[0]}`);
  if (!flags['bundle']) throw new UsageError('--bundle is required');
  if (positional.length !== 1) throw new UsageError('exactly one FILE_OR_DIGEST is required');
  const keyless =
    flags['certificate-identity'] !== undefined || flags['certificate-oidc-issuer'] !== undefined;
  if (keyless === (flags['key'] !== undefined)) {
    throw new UsageError('give either --certificate-identity and --certificate-oidc-issuer, or --key');
  }
  if (keyless && (!flags['certificate-identity'] || !flags['certificate-oidc-issuer'])) {
    throw new UsageError('--certificate-identity and --certificate-oidc-issuer go together');
  }
  return {
    bundle: flags['bundle'],
    identity: flags['certificate-identity'],
    issuer: flags['certificate-oidc-issuer'],
    key: flags['key'],
    trustedRoot: flags['trusted-root'],
    artifact: positional[0]!,
  };
}

function artifactOf(arg: string): Artifact {
  const digest = /^sha256:([0-9a-fA-F]{64})$/.exec(arg);
  if (digest) return { type: 'digest', algorithm: 'sha256', digest: Buffer.from(digest[1]!, 'hex') };
  return { type: 'bytes', data: readInputFile(arg, 'artifact') };
}

/** Runs one protocol invocation; `trustOptions` lets tests compare the fast and reference paths. */
export function runConformance(
  argv: string[],
  trustOptions: TrustOptions = {},
): { code: number; message: string } {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    return { code: 2, message: `${(err as Error).message}\n${USAGE}` };
  }
  try {
    const base: TrustRootSpec = args.trustedRoot
      ? loadTrustedRootFile(args.trustedRoot, args.trustedRoot)
      : { name: PUBLIC_GOOD };
    const root: TrustRootSpec =
      args.key !== undefined
        ? { ...base, publicKeys: [{ publicKey: readInputFile(args.key, 'public key').toString('utf8') }] }
        : base;
    const ctx = loadTrustRoots([root], { ...trustOptions, embeddedNpmKeys: false });
    const facts = verifyBundle(ctx, loadBundleFile(args.bundle).json, {
      artifact: artifactOf(args.artifact),
    });
    if (args.key !== undefined) {
      if (facts.signer)
        return { code: 1, message: 'bundle is signed by a certificate, expected the key given with --key' };
      return { code: 0, message: 'verified (key)' };
    }
    if (!facts.signer)
      return { code: 1, message: 'bundle is signed by a key, expected a certificate identity' };
    if (facts.signer.subject !== args.identity) {
      return { code: 1, message: `identity is "${facts.signer.subject}", expected "${args.identity}"` };
    }
    if (facts.signer.issuer !== args.issuer) {
      return { code: 1, message: `issuer is "${facts.signer.issuer}", expected "${args.issuer}"` };
    }
    return { code: 0, message: `verified: ${facts.signer.subject} (${facts.signer.issuer})` };
  } catch (err) {
    if (err instanceof EvidenceError || err instanceof FileInputError || err instanceof TrustConfigError) {
      const code = err instanceof EvidenceError ? `${err.code}: ` : '';
      return { code: 1, message: `${code}${err.message}` };
    }
    return { code: 1, message: `unexpected error: ${err instanceof Error ? err.message : String(err)}` };
  }
}

const isMain = typeof require !== 'undefined' && typeof module !== 'undefined' && require.main === module;
if (isMain || process.argv[1]?.endsWith('conformance-cli.ts')) {
  const { code, message } = runConformance(process.argv.slice(2));
  (code === 0 ? process.stdout : process.stderr).write(`${message}\n`);
  process.exitCode = code;
}
