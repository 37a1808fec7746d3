import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr, as a person would read them */
  output: string;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  input?: string;
}

/** Runs a command to completion, bounded in time: a hung child is killed and reported, never awaited forever. */
export async function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    output += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    output += d;
  });
  child.stdin.end(options.input ?? '');
  const timeoutMs = options.timeoutMs ?? 180_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (timedOut) {
    throw new Error(`${command} ${args.join(' ')} timed out after ${timeoutMs} ms\n${output}`);
  }
  return { code, signal, stdout, stderr, output };
}

/**
 * Starts a long-running child that announces readiness with one JSON line on stdout, and returns
 * that line parsed. The child is killed if it does not announce itself in time.
 */
export async function startAnnouncing<T>(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; name: string },
): Promise<{ child: ChildProcess; ready: T; logs: () => string }> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: 'pipe' });
  let logs = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    logs += d;
  });
  const lines = createInterface({ input: child.stdout! });
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    const ready = await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${options.name} did not start within ${timeoutMs} ms\n${logs}`)),
        timeoutMs,
      );
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited with ${code} before it was ready\n${logs}`));
      });
      lines.on('line', (line) => {
        logs += `${line}\n`;
        if (!line.startsWith('{')) return;
        try {
          const parsed = JSON.parse(line) as T;
          clearTimeout(timer);
          resolve(parsed);
        } catch {
          // not the announcement; keep reading
        }
      });
    });
    lines.on('line', (line) => {
      logs += `${line}\n`;
    });
    return { child, ready, logs: () => logs };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

/** Asks a child to stop (SIGTERM), and kills it if it has not exited after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
