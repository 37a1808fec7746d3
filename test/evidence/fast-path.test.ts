// The fast path (single-allocation DER encoder, non-throwing DER parser, the leaf parsed once, trust
// certificates and keys prepared once) must give byte-identical results to the reference path
// (sigstore-js's own encoder and parser, toSignedEntity, nothing memoised): the complete verdict —
// facts, failure codes and messages — for every conformance case in both modes, every npm provenance
// fixture, and a corpus of altered copies of the npm bundles that reaches each failure the fast path
// touches (certificate bytes, chains, signatures, log entries, keys). (An altered signature fails
// the log-body comparison before the signature check; SIGNATURE_INVALID is reached by the conformance
// cases.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Artifact } from '../../policy/evidence/bundle/artifact';
import { verifyBundle } from '../../policy/evidence/bundle/verify-bundle';
import { loadBundleFile, loadTrustedRootFile } from '../../policy/evidence/files';
import { installFastDerEncoding, uninstallFastDerEncoding } from '../../policy/evidence/perf/der-encoding';
import { loadTrustRoots, PUBLIC_GOOD, type TrustRootSpec } from '../../policy/evidence/trust/context';
import { embeddedPublicGoodTrustedRoot } from '../../policy/evidence/trust/seeds';
import { type PackageEvidenceInput, verifyPackageEvidence } from '../../policy/evidence/verify-package';
import { fixturePath, loadNpmFixture, NPM_PACKAGES, type NpmFixture, packageInput } from './fixtures';
import { generateSelfSigned } from './self-signed';

const SUITE = fixturePath('sigstore-conformance', 'bundle-verify');
const cases = readdirSync(SUITE, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(SUITE, d.name, 'bundle.sigstore.json')))
  .map((d) => d.name)
  .sort();

function describeError(err: unknown): unknown {
  const e = err as { name?: string; code?: string; message?: string };
  return { error: e?.name, code: e?.code, message: e?.message ?? String(err) };
}

/** Runs `fn` on the reference path (sigstore-core's own encoder) or the fast path. */
async function onPath<T>(reference: boolean, fn: (reference: boolean) => Promise<T> | T): Promise<T> {
  if (reference) uninstallFastDerEncoding();
  try {
    return await fn(reference);
  } finally {
    installFastDerEncoding();
  }
}

function conformanceVerdict(name: string, mode: 'path' | 'digest', reference: boolean): string {
  const dir = join(SUITE, name);
  const optional = (file: string) => (existsSync(join(dir, file)) ? join(dir, file) : undefined);
  const artifactPath = optional('artifact') ?? join(SUITE, 'a.txt');
  const bytes = readFileSync(artifactPath);
  const artifact: Artifact =
    mode === 'path'
      ? { type: 'bytes', data: bytes }
      : { type: 'digest', algorithm: 'sha256', digest: createHash('sha256').update(bytes).digest() };
  try {
    const trustedRoot = optional('trusted_root.json');
    const key = optional('key.pub');
    const base: TrustRootSpec = trustedRoot
      ? loadTrustedRootFile(trustedRoot, trustedRoot)
      : { name: PUBLIC_GOOD };
    const root = key ? { ...base, publicKeys: [{ publicKey: readFileSync(key, 'utf8') }] } : base;
    const ctx = loadTrustRoots([root], { reference, embeddedNpmKeys: false });
    const facts = verifyBundle(ctx, loadBundleFile(join(dir, 'bundle.sigstore.json')).json, { artifact });
    return `${name} ${mode}: ${JSON.stringify(facts)}`;
  } catch (err) {
    return `${name} ${mode}: ${JSON.stringify(describeError(err))}`;
  }
}

test('every conformance case, path and digest mode: the same verdict, facts and messages', async () => {
  assert.ok(cases.length >= 70);
  const run = (reference: boolean) =>
    onPath(reference, () =>
      cases.flatMap((name) =>
        (['path', 'digest'] as const).map((mode) => conformanceVerdict(name, mode, reference)),
      ),
    );
  const reference = await run(true);
  const fast = await run(false);
  assert.deepEqual(fast, reference);
  // the comparison covers successes and failures alike
  assert.ok(fast.filter((v) => v.includes('"kind"')).length > 40);
  assert.ok(fast.filter((v) => v.includes('"code"')).length > 60);
});

// ---- npm provenance fixtures and altered copies ----

// biome-ignore lint/suspicious/noExplicitAny: bundle JSON edited in place
type Json = Record<string, any>;

function flip(b64: string, at: number, mask = 0x01): string {
  const bytes = Buffer.from(b64, 'base64');
  const i = ((at % bytes.length) + bytes.length) % bytes.length;
  bytes[i] = bytes[i]! ^ mask;
  return bytes.toString('base64');
}

function certificatesOf(bundle: Json): { rawBytes: string }[] | undefined {
  const vm = bundle.verificationMaterial;
  return vm.x509CertificateChain?.certificates ?? (vm.certificate ? [vm.certificate] : undefined);
}

const publicGood = JSON.parse(embeddedPublicGoodTrustedRoot());
// The current public-good Fulcio chain (intermediate, root), as v0.1 bundles carry it.
const fulcioChain: string[] = publicGood.certificateAuthorities
  .at(-1)
  .certChain.certificates.map((c: { rawBytes: string }) => c.rawBytes);

async function variants(
  fixture: NpmFixture,
  other: NpmFixture,
): Promise<{ label: string; input: PackageEvidenceInput }[]> {
  const foreignRoot = (await generateSelfSigned()).toString('base64');
  const out: { label: string; input: PackageEvidenceInput }[] = [];
  const base = () => fixture.attestations.map((a) => JSON.parse(JSON.stringify(a.bundle)) as Json);
  const add = (
    label: string,
    edit: (bundles: Json[]) => void,
    overrides: Partial<PackageEvidenceInput> = {},
  ) => {
    const bundles = base();
    edit(bundles);
    out.push({
      label: `${fixture.file}: ${label}`,
      input: packageInput(fixture, {
        bundles: bundles.map((b, i) => ({ json: JSON.stringify(b), source: `#${i}` })),
        ...overrides,
      }),
    });
  };
  add('as published', () => {});
  fixture.attestations.forEach((_, bi) => {
    const cert = certificatesOf(base()[bi]!);
    if (cert) {
      const length = Buffer.from(cert[0]!.rawBytes, 'base64').length;
      for (const at of [
        0,
        1,
        2,
        4,
        6,
        10,
        40,
        100,
        200,
        300,
        450,
        600,
        800,
        length - 120,
        length - 70,
        length - 2,
      ]) {
        for (const mask of [0x01, 0x80]) {
          add(`bundle ${bi} leaf byte ${at} ^ ${mask}`, (b) => {
            const c = certificatesOf(b[bi]!)!;
            c[0]!.rawBytes = flip(c[0]!.rawBytes, at, mask);
          });
        }
      }
      add(`bundle ${bi} leaf truncated`, (b) => {
        const c = certificatesOf(b[bi]!)!;
        c[0]!.rawBytes = Buffer.from(c[0]!.rawBytes, 'base64').subarray(0, 500).toString('base64');
      });
      add(`bundle ${bi} leaf is garbage`, (b) => {
        certificatesOf(b[bi]!)![0]!.rawBytes = 'AAAA';
      });
      const leafOfOther = certificatesOf(
        other.attestations.map((a) => a.bundle as Json).find((x) => certificatesOf(x))!,
      )!;
      add(`bundle ${bi} leaf of another package`, (b) => {
        certificatesOf(b[bi]!)![0]!.rawBytes = leafOfOther[0]!.rawBytes;
      });
      if (b0HasChain(base()[bi]!)) {
        const chain = (b: Json) =>
          b[bi]!.verificationMaterial.x509CertificateChain.certificates as { rawBytes: string }[];
        add(`bundle ${bi} chain + Fulcio intermediate and root`, (b) => {
          chain(b).splice(1, Infinity, ...fulcioChain.map((rawBytes) => ({ rawBytes })));
        });
        add(`bundle ${bi} chain + Fulcio root only`, (b) => {
          chain(b).splice(1, Infinity, { rawBytes: fulcioChain.at(-1)! });
        });
        add(`bundle ${bi} chain + a foreign root`, (b) => {
          chain(b).splice(1, Infinity, { rawBytes: fulcioChain[0]! }, { rawBytes: foreignRoot });
        });
        add(`bundle ${bi} chain + an altered Fulcio root`, (b) => {
          chain(b).splice(1, Infinity, { rawBytes: flip(fulcioChain.at(-1)!, 300) });
        });
        add(`bundle ${bi} chain + garbage`, (b) => {
          chain(b).splice(1, Infinity, { rawBytes: 'MAA=' });
        });
        add(`bundle ${bi} chain is the foreign root alone`, (b) => {
          chain(b).splice(0, Infinity, { rawBytes: foreignRoot });
        });
        add(`bundle ${bi} chain empty`, (b) => {
          chain(b).splice(0, Infinity);
        });
      }
    } else {
      add(`bundle ${bi} unknown key hint`, (b) => {
        b[bi]!.verificationMaterial.publicKey.hint = 'SHA256:unknown';
      });
    }
    add(`bundle ${bi} signature flipped`, (b) => {
      const s = b[bi]!.dsseEnvelope.signatures[0];
      s.sig = flip(s.sig, 20);
    });
    add(`bundle ${bi} payload flipped`, (b) => {
      b[bi]!.dsseEnvelope.payload = flip(b[bi]!.dsseEnvelope.payload, 40);
    });
    const entry = (b: Json) => b[bi]!.verificationMaterial.tlogEntries[0];
    add(`bundle ${bi} log body flipped`, (b) => {
      entry(b).canonicalizedBody = flip(entry(b).canonicalizedBody, 30);
    });
    add(`bundle ${bi} SET flipped`, (b) => {
      entry(b).inclusionPromise.signedEntryTimestamp = flip(
        entry(b).inclusionPromise.signedEntryTimestamp,
        12,
      );
    });
    add(`bundle ${bi} integrated time moved`, (b) => {
      entry(b).integratedTime = String(Number(entry(b).integratedTime) + 1);
    });
    add(`bundle ${bi} log index moved`, (b) => {
      entry(b).logIndex = String(Number(entry(b).logIndex) + 1);
    });
    if (entry(base())?.inclusionProof?.hashes?.length) {
      add(`bundle ${bi} inclusion proof hash flipped`, (b) => {
        const proof = entry(b).inclusionProof;
        proof.hashes[0] = flip(proof.hashes[0], 3);
      });
      add(`bundle ${bi} checkpoint altered`, (b) => {
        const proof = entry(b).inclusionProof;
        proof.checkpoint.envelope = proof.checkpoint.envelope.replace(/\n(\d)/, '\n9$1');
      });
      add(`bundle ${bi} no inclusion proof`, (b) => {
        delete entry(b).inclusionProof;
      });
    }
  });
  add('the tarball of another package', () => {}, { tarball: other.tarball });
  add('no tarball', () => {}, { tarball: undefined });
  return out;
}

function b0HasChain(bundle: Json): boolean {
  return Array.isArray(bundle.verificationMaterial.x509CertificateChain?.certificates);
}

test('every npm fixture and altered copies of it: the same verdict, facts and messages', async (t) => {
  const fixtures = NPM_PACKAGES.map(([file]) => loadNpmFixture(file));
  const corpus = (
    await Promise.all(fixtures.map((f, i) => variants(f, fixtures[(i + 1) % fixtures.length]!)))
  ).flat();
  const run = (reference: boolean) =>
    onPath(reference, async () => {
      const ctx = loadTrustRoots([{ name: PUBLIC_GOOD }], { reference });
      const verdicts: string[] = [];
      for (const { label, input } of corpus) {
        verdicts.push(`${label}: ${JSON.stringify(await verifyPackageEvidence(ctx, input))}`);
      }
      return verdicts;
    });
  const reference = await run(true);
  const fast = await run(false);
  t.diagnostic(`${corpus.length} package inputs compared`);
  assert.equal(fast.length, reference.length);
  for (let i = 0; i < fast.length; i++) assert.equal(fast[i], reference[i]);
  // the corpus reaches successes and a spread of failures
  const codes = new Set(reference.flatMap((v) => [...v.matchAll(/"code":"([A-Z_]+)"/g)].map((m) => m[1])));
  for (const code of [
    'CERTIFICATE_INVALID',
    'BUNDLE_CHAIN_INCLUDES_ROOT',
    'TLOG_INVALID',
    'TLOG_BODY_CERTIFICATE_MISMATCH',
    'PUBLIC_KEY_UNKNOWN',
    'BUNDLE_MALFORMED',
    'TARBALL_INTEGRITY_MISMATCH',
  ]) {
    assert.ok(codes.has(code), `the corpus never reaches ${code}: ${[...codes].join(', ')}`);
  }
  assert.ok(reference.filter((v) => v.includes('"failures":[]')).length >= NPM_PACKAGES.length);
});
