// The `tollgate-monitor` executable (bundled into dist/tollgate-monitor.cjs).
import { runCli } from './cli';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => controller.abort());
}

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Reaching this is a bug: say so in one line, with the exit code of a usage error.
    process.stderr.write(
      `tollgate-monitor: internal error: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exitCode = 2;
  },
);
