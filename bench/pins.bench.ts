// Reading the pins file: `npm run bench pins`. The file as Tollgate writes it (read as plain JSON) against
// the same content hand-edited by one space (read with the location-keeping YAML parser), interleaved,
// one core, the schema compiled beforehand. Knobs: BENCH_PINS (pins, default 1,000), ROUNDS (default 15).
import { loadavg } from 'node:os';
import { loadPins, type Pins, serializePins } from '../policy/index';
import { intFromEnv } from './lib/options';

const count = intFromEnv('BENCH_PINS', 1000);
const rounds = intFromEnv('ROUNDS', 15);

const packages: Pins['packages'] = {};
for (let i = 0; i < count; i++) {
  packages[`package-${i}`] = {
    '1': {
      signers: [
        {
          since: '1.0.0',
          issuer: 'https://token.actions.githubusercontent.com',
          subject: `https://github.com/owner/package-${i}/.github/workflows/release.yml`,
          repository: `github.com/owner/package-${i}`,
          repositoryId: String(100_000 + i),
          ownerId: '42',
          workflow: '.github/workflows/release.yml',
          runner: 'github-hosted',
        },
      ],
      evidence: [{ since: '1.0.0', level: 'provenance' }],
    },
  } as Pins['packages'][string];
}
const written = serializePins({ version: 1, packages });
const edited = written.replace(/\n$/, ' \n');

const time = (text: string): number => {
  const start = performance.now();
  const loaded = loadPins(text);
  const ms = performance.now() - start;
  if (!loaded.ok) throw new Error(`the bench's pins file did not load: ${JSON.stringify(loaded.errors[0])}`);
  return ms;
};
time(written); // compiles the schema once, as the first read of every process does
time(edited);
const fast: number[] = [];
const located: number[] = [];
for (let r = 0; r < rounds; r++) {
  fast.push(time(written));
  located.push(time(edited));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const [m1, m5] = loadavg();
console.log(
  `pins: ${count} packages, ${(written.length / 1024).toFixed(0)} KiB, ${rounds} interleaved rounds`,
);
console.log(`  as Tollgate writes it (plain JSON):   median ${median(fast).toFixed(1)} ms`);
console.log(`  hand-edited (located YAML parse):     median ${median(located).toFixed(1)} ms`);
console.log(
  `  ratio located / written: ${(median(located) / median(fast)).toFixed(1)}x   load ${m1!.toFixed(2)} / ${m5!.toFixed(2)}`,
);
