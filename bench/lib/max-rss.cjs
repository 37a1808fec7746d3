// Preloaded into the Yarn processes a bench runs (NODE_OPTIONS=--require): when Yarn exits, its peak
// resident memory goes to TOLLGATE_BENCH_RSS_DIR/<pid>.json. Child processes of other programs (a
// lifecycle script's node) inherit NODE_OPTIONS too and are ignored: only yarn.js itself reports.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.TOLLGATE_BENCH_RSS_DIR;
if (dir && /yarn\.js$/.test(process.argv[1] ?? '')) {
  process.on('exit', () => {
    try {
      writeFileSync(
        join(dir, `${process.pid}.json`),
        JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }),
      );
    } catch {}
  });
}
