// The command line of the monitor, shared by the `tollgate-monitor` executable and the plugin's
// `yarn tollgate monitor` (which passes its arguments through): parse, open the engine, run once or
// every interval, print, exit with the documented code. Usage and configuration problems print one
// clean message (with located diagnostics) and exit 2, never a stack trace.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatDiagnostic } from '../policy/diagnostics';
import { parseMonitorConfig } from './config/load';
import { DEFAULT_CONFIG_FILE } from './config/model';
import { parseDurationMs } from './duration';
import { describeError, MonitorUsageError } from './errors';
import { openMonitor } from './monitor';
import { renderMarkdown, renderNdjson, renderText } from './notify/render';
import { EXIT, type RunReport } from './report';

export const USAGE = `Usage: tollgate-monitor [run] [options]
       tollgate-monitor check [--config FILE]
       tollgate-monitor checkpoints [--config FILE]

Watches transparency logs for signing events by your identities and registries for new versions
of your packages, and reports what no expected release accounts for.

  run (default)         check every source once (--once) or every --interval
  check                 validate the configuration and exit (0 valid, 2 invalid)
  checkpoints           print this monitor's verified checkpoints as JSON (for other observers)

Options:
  --config FILE         the configuration (default ${DEFAULT_CONFIG_FILE})
  --state FILE          the state file (default: the configuration's "state")
  --once                one run, then exit (the default; for scheduled CI jobs)
  --interval DURATION   run every DURATION (e.g. 60s, 5m) until SIGINT/SIGTERM (a service)
  --json                NDJSON output (same as --format json)
  --format FORMAT       text (default), json (NDJSON) or markdown (a GitHub issue body)
  --markdown FILE       also write the Markdown issue body to FILE when something needs investigation
  --no-webhook          do not deliver notifications this run (they stay pending)
  -h, --help            this help
  --version             the version

Exit codes: 0 nothing unexpected, 1 unexpected events, 2 usage or configuration error,
3 a log is inconsistent (rollback, fork, split view), 4 a source could not be checked.
`;

export const VERSION = '0.1.0';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** aborts an --interval service after the current run */
  signal?: AbortSignal;
}

type Format = 'text' | 'json' | 'markdown';

function usageError(io: CliIo, message: string): number {
  io.stderr(`tollgate-monitor: ${message}\nRun tollgate-monitor --help for the options.\n`);
  return EXIT.USAGE;
}

function printUsageProblem(io: CliIo, err: MonitorUsageError): number {
  io.stderr(`tollgate-monitor: ${err.message}\n${err.details.map((d) => `${d}\n`).join('')}`);
  return EXIT.USAGE;
}

function render(report: RunReport, format: Format): string {
  if (format === 'json') return renderNdjson(report);
  if (format === 'markdown') return renderMarkdown(report);
  return renderText(report);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolvePromise) => {
    if (signal?.aborted) return resolvePromise();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolvePromise();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    return usageError(io, describeError(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return EXIT.OK;
  }
  if (values.version) {
    io.stdout(`${VERSION}\n`);
    return EXIT.OK;
  }
  const command = positionals[0] ?? 'run';
  if (positionals.length > 1 || !['run', 'check', 'checkpoints'].includes(command)) {
    return usageError(io, `unknown command "${positionals.join(' ')}"; use run, check or checkpoints`);
  }
  const configPath = values.config ?? DEFAULT_CONFIG_FILE;
  if (command === 'check') return checkConfig(io, configPath);

  let format: Format = 'text';
  if (values.format !== undefined) {
    if (!['text', 'json', 'markdown'].includes(values.format))
      return usageError(io, `--format must be text, json or markdown, not "${values.format}"`);
    format = values.format as Format;
  }
  if (values.json) format = 'json';
  if (values.once && values.interval !== undefined)
    return usageError(io, '--once and --interval exclude each other');
  let intervalMs: number | undefined;
  if (values.interval !== undefined) {
    intervalMs = parseDurationMs(values.interval);
    if (intervalMs === undefined)
      return usageError(io, `--interval must be a duration such as 60s or 5m, not "${values.interval}"`);
  }

  let monitor: ReturnType<typeof openMonitor>;
  try {
    monitor = openMonitor(configPath, {
      cwd: io.cwd,
      env: io.env,
      ...(values.state !== undefined ? { statePath: values.state } : {}),
      ...(values['no-webhook'] ? { webhook: false } : {}),
    });
  } catch (err) {
    if (err instanceof MonitorUsageError) return printUsageProblem(io, err);
    throw err;
  }
  try {
    if (command === 'checkpoints') {
      io.stdout(`${JSON.stringify(monitor.checkpoints(), null, 1)}\n`);
      return EXIT.OK;
    }
    let exit: number = EXIT.OK;
    do {
      let report: RunReport;
      try {
        report = await monitor.run();
      } catch (err) {
        if (err instanceof MonitorUsageError) return printUsageProblem(io, err);
        throw err;
      }
      io.stdout(render(report, format));
      if (values.markdown !== undefined && report.exitCode !== EXIT.OK) {
        writeFileSync(resolve(io.cwd, values.markdown), renderMarkdown(report));
      }
      exit = report.exitCode;
      if (intervalMs !== undefined) await sleep(intervalMs, io.signal);
    } while (intervalMs !== undefined && !io.signal?.aborted);
    return intervalMs !== undefined ? EXIT.OK : exit;
  } finally {
    monitor.close();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      state: { type: 'string' },
      once: { type: 'boolean' },
      interval: { type: 'string' },
      json: { type: 'boolean' },
      format: { type: 'string' },
      markdown: { type: 'string' },
      'no-webhook': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
}

function checkConfig(io: CliIo, configPath: string): number {
  const path = resolve(io.cwd, configPath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return usageError(io, `cannot read ${configPath} (${(err as NodeJS.ErrnoException).code})`);
  }
  const loaded = parseMonitorConfig(text, configPath, path);
  if (!loaded.ok) {
    io.stderr(`${loaded.errors.map(formatDiagnostic).join('\n')}\n`);
    return EXIT.USAGE;
  }
  try {
    openMonitor(configPath, { cwd: io.cwd, env: io.env }).close();
  } catch (err) {
    if (err instanceof MonitorUsageError) return printUsageProblem(io, err);
    throw err;
  }
  const c = loaded.config;
  io.stdout(
    `${configPath}: valid (${c.logs.length} log(s), ${c.identities.length} identit${c.identities.length === 1 ? 'y' : 'ies'}, ${c.packages.length} package(s), ${c.witnesses.length} witness(es))\n`,
  );
  return EXIT.OK;
}
