import { npath } from '@yarnpkg/fslib';
import { runCli } from '../../../../monitor/cli';
import type MonitorCommand from '../monitor';

export async function execute(this: MonitorCommand) {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await runCli(this.args, {
      stdout: (text) => this.context.stdout.write(text),
      stderr: (text) => this.context.stderr.write(text),
      cwd: npath.fromPortablePath(this.context.cwd),
      env: process.env,
      signal: controller.signal,
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
