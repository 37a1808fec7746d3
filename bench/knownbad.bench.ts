// The known-bad database at the scale of the public feeds: an OSV export of 250,000 records (zip, in the
// shape of OpenSSF MAL records) is imported, the index is opened as every run opens it (read, digest
// checked, header and keys parsed), and 1,000 installed packages are consulted (half of them named by a
// record). Goals: import < 30 s, open < 1 s, consulting < 50 ms per 1,000 packages. Figures only; no
// test asserts a time.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesFiles, importFiles, matchRelease, openIndex, PUBLIC_REGISTRY } from '../knownbad';
import { tempDir } from '../test/harness/paths';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 250_000);
const PACKAGES = 1_000;

function record(i: number): string {
  const name = i % 7 === 0 ? `@scope${i % 500}/pkg-${i}` : `malicious-package-${i}`;
  const affected =
    i % 3 === 0
      ? { versions: ['1.0.0', '1.0.1'] }
      : {
          ranges: [
            {
              type: 'SEMVER',
              events: i % 5 === 0 ? [{ introduced: '1.2.0' }, { fixed: '1.3.0' }] : [{ introduced: '0' }],
            },
          ],
        };
  return JSON.stringify(
    {
      modified: '2026-03-02T10:11:12Z',
      published: '2026-03-01T09:00:00Z',
      schema_version: '1.7.4',
      id: `MAL-2026-${i}`,
      summary: `Malicious code in ${name} (npm)`,
      details:
        '\n---\n_-= Per source details. Do not edit below this line.=-_\n\n## Source: ghsa-malware\nAny computer that has this package installed should be considered fully compromised.\n',
      affected: [
        {
          package: { ecosystem: 'npm', name },
          ...affected,
          database_specific: { cwes: [{ cweId: 'CWE-506', name: 'Embedded Malicious Code' }] },
        },
      ],
      references: [{ type: 'ADVISORY', url: `https://github.com/advisories/GHSA-${i}` }],
      database_specific: {
        'malicious-packages-origins': [{ source: 'ghsa-malware', sha256: '0'.repeat(64) }],
      },
    },
    null,
    2,
  );
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(2);
const dir = tempDir('bench-knownbad');

let t = performance.now();
// fflate's writer stops at 65,535 entries (no zip64 records); osv.dev's exports are written by Python's
// zipfile, which switches to zip64, so the bench writes its export the same way.
const lines = join(dir, 'records.jsonl');
writeFileSync(lines, Array.from({ length: RECORDS }, (_, i) => JSON.stringify(record(i))).join('\n'));
const zipPath = join(dir, 'npm-all.zip');
const packed = spawnSync(
  'python3',
  [
    '-c',
    'import json,sys,zipfile\nwith zipfile.ZipFile(sys.argv[2],"w",zipfile.ZIP_DEFLATED,compresslevel=1) as z:\n  for i,l in enumerate(open(sys.argv[1])): z.writestr("MAL-2026-%d.json"%i, json.loads(l))',
    lines,
    zipPath,
  ],
  { stdio: 'inherit' },
);
if (packed.status !== 0)
  throw new Error('python3 (zipfile) is needed to write a zip64 export for this bench');
const zip = readFileSync(zipPath);
console.log(
  `generated ${RECORDS.toLocaleString('en-US')} OSV records: ${(zip.length / 1e6).toFixed(1)} MB zip in ${seconds(t)} s`,
);

t = performance.now();
const imported = importFiles(bytesFiles(readFileSync(zipPath), zipPath), {
  source: zipPath,
  now: new Date(),
});
const importSeconds = seconds(t);
const indexPath = join(dir, 'known-bad.index');
writeFileSync(indexPath, imported.index);
console.log(
  `import (unzip, parse, validate, index): ${importSeconds} s for ${imported.header.counts.records.toLocaleString('en-US')} records, ${imported.header.counts.invalid} invalid; index ${(imported.index.length / 1e6).toFixed(1)} MB   goal < 30 s`,
);

const opens: number[] = [];
let index = openIndex(imported.index);
for (let round = 0; round < 5; round++) {
  t = performance.now();
  const bytes = readFileSync(indexPath);
  createHash('sha256').update(bytes).digest('hex');
  index = openIndex(bytes);
  opens.push(performance.now() - t);
}
opens.sort((a, b) => a - b);
console.log(
  `open (read, sha256, parse header and ${index.size.toLocaleString('en-US')} keys): median ${opens[2]!.toFixed(0)} ms, max ${opens[4]!.toFixed(0)} ms over 5   goal < 1000 ms`,
);

const sources = { indexes: [{ index, label: 'bench' }], lists: [] };
const releases = Array.from({ length: PACKAGES }, (_, i) => ({
  name: i % 2 === 0 ? `malicious-package-${i * 97 + 1}` : `innocent-package-${i}`,
  version: '1.2.5',
  registries: ['https://registry.example.org/', PUBLIC_REGISTRY],
  integrity: `sha512-${Buffer.alloc(64, i % 256).toString('base64')}`,
}));
const consults: number[] = [];
let hits = 0;
for (let round = 0; round < 5; round++) {
  t = performance.now();
  hits = 0;
  for (const release of releases) hits += matchRelease(sources, release, new Date()).length;
  consults.push(performance.now() - t);
}
consults.sort((a, b) => a - b);
console.log(
  `consult ${PACKAGES.toLocaleString('en-US')} packages (${hits} matches): median ${consults[2]!.toFixed(1)} ms, max ${consults[4]!.toFixed(1)} ms over 5   goal < 50 ms`,
);
