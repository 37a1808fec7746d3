// `npm run bench realworld`: records the real-world mirror once (bench/realworld/record.ts) into
// bench/.cache/realworld/ from the registry npm is configured with; `BENCH_REALWORLD_REFRESH=1`
// records again. `npm run bench install-realworld` measures installs from it.
import { recordRealworld } from './realworld/record';

recordRealworld({ refresh: process.env.BENCH_REALWORLD_REFRESH === '1', log: console.log }).catch(
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
