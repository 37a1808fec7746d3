// Stage 3's gathering of bundles (engine/check/gather.ts): what the stores served in this run and what
// the evidence file records, each bundle text once. A committed bundle a store served again is that
// very text, so it appears once, as the store's; one no source served is read back from the bundles
// folder; offline, a recorded bundle that is missing or altered is a failure.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Classified } from '../../plugin/sources/engine/check/classify';
import { gather } from '../../plugin/sources/engine/check/gather';
import type { Sources } from '../../plugin/sources/engine/check/sources';
import type { EngineContext } from '../../plugin/sources/engine/context';
import type { EvidenceRecord } from '../../plugin/sources/engine/evidence-file';
import { bundleDigestOf } from '../../policy/evidence';
import { tempDir } from '../harness/paths';

const integrity = `sha512-${createHash('sha512').update('acme-1.0.0.tgz').digest('base64')}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const bundleText = (n: number) =>
  JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', n });

function project() {
  const dir = tempDir('gather');
  const evidenceFile = join(dir, '.tollgate.evidence.json');
  mkdirSync(join(dir, '.tollgate.bundles'));
  const commit = (text: string, content = text) => {
    writeFileSync(join(dir, '.tollgate.bundles', `${sha256(text)}.json`), content);
    return sha256(text);
  };
  const ctx = { settings: { evidenceFile } } as unknown as EngineContext;
  const c = { npm: { name: 'acme', version: '1.0.0' }, registry: 'http://registry' } as unknown as Classified;
  const record = (bundles: string[]): EvidenceRecord =>
    ({ integrity, bundles, checksum: 'c0ffee', registry: 'http://registry' }) as unknown as EvidenceRecord;
  return { evidenceFile, commit, ctx, c, record };
}

const binding = { ok: true as const, integrity, how: 'downloaded' as const };
const STORE = 'http://store/acme@1.0.0';
/** Online: the store served `served`; the evidence file records `record` for the package. */
const online = (served: string[], record: EvidenceRecord): Sources => ({
  online: true,
  failures: [],
  attestations: [{ url: STORE, bundles: served }],
  record,
});

describe('gathering bundles', () => {
  test('the digest of a bundle text is its sha256, the same on every call', () => {
    for (const text of [bundleText(1), bundleText(2), bundleText(1)])
      assert.equal(bundleDigestOf(text), sha256(text));
    assert.equal(bundleDigestOf({ a: 1 }), sha256('{"a":1}'));
  });

  test('a committed bundle a store served again appears once, as the store served it', () => {
    const { commit, ctx, c, record } = project();
    const text = bundleText(1);
    const gathered = gather(ctx, c, online([text], record([commit(text)])), binding);
    assert.deepEqual(gathered.bundles, [{ json: text, source: STORE }]);
    assert.deepEqual(gathered.failures, []);
  });

  test('a committed bundle no source served is read back from the bundles folder', () => {
    const { evidenceFile, commit, ctx, c, record } = project();
    const served = bundleText(1);
    const committed = bundleText(2);
    const digest = commit(committed);
    const gathered = gather(ctx, c, online([served], record([digest])), binding);
    assert.deepEqual(gathered.bundles, [
      { json: served, source: STORE },
      { json: committed, source: `${evidenceFile} (bundle ${digest.slice(0, 12)})` },
    ]);
  });

  test('offline, a recorded bundle whose file is altered is a failure, and its text is not used', () => {
    const { commit, ctx, c, record } = project();
    const text = bundleText(3);
    const digest = commit(text, bundleText(4));
    const gathered = gather(
      ctx,
      c,
      { online: false, failures: [], attestations: [], record: record([digest]) },
      binding,
    );
    assert.deepEqual(gathered.bundles, []);
    assert.deepEqual(
      gathered.failures.map((f) => f.code),
      ['EVIDENCE_RECORD_MISSING_BUNDLE'],
    );
  });
});
