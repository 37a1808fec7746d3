// Reading the base version of the repository's files with git, for `policy diff` and `audit --base`.
// Nothing is checked out: every file is read with `git show <commit>:<path>`.
import { execFileSync } from 'node:child_process';
import { relative, resolve, sep } from 'node:path';

/** The base cannot be read: not a repository, an unknown ref. Reported as a usage error. */
export class ReviewProblem extends Error {}

function git(cwd: string, args: string[]): Buffer {
  return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
}

function stderrOf(err: unknown): string {
  const e = err as { stderr?: Buffer; message?: string };
  return (e.stderr?.toString('utf8') || e.message || String(err)).trim().split('\n')[0]!;
}

export interface GitBase {
  /** the repository's top folder */
  root: string;
  /** the ref as given, and the commit it names */
  ref: string;
  commit: string;
  /** the file at `path` (absolute, inside the repository) in the base commit; null when it did not exist */
  read(path: string): Buffer | null;
}

export function openGitBase(cwd: string, ref: string): GitBase {
  let root: string;
  try {
    root = git(cwd, ['rev-parse', '--show-toplevel']).toString('utf8').trim();
  } catch (err) {
    throw new ReviewProblem(
      `${cwd} is not inside a git repository (${stderrOf(err)}); --base compares with a git ref of the repository`,
    );
  }
  let commit: string;
  try {
    commit = git(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`])
      .toString('utf8')
      .trim();
  } catch {
    throw new ReviewProblem(
      `the base ref "${ref}" is not a commit this clone knows; fetch it first (e.g. \`git fetch origin ${ref.replace(/^origin\//, '')}\`, or actions/checkout with fetch-depth: 0)`,
    );
  }
  const cache = new Map<string, Buffer | null>();
  return {
    root,
    ref,
    commit,
    read(path) {
      const inside = relative(root, resolve(path));
      if (inside.startsWith('..') || inside === '') return null;
      const key = inside.split(sep).join('/');
      if (cache.has(key)) return cache.get(key)!;
      let content: Buffer | null;
      try {
        content = git(root, ['show', `${commit}:${key}`]);
      } catch (err) {
        const message = stderrOf(err);
        if (/does not exist|exists on disk, but not in|bad revision|Path '.*' does not exist/.test(message))
          content = null;
        else throw new ReviewProblem(`git cannot read ${key} at ${ref}: ${message}`);
      }
      cache.set(key, content);
      return content;
    },
  };
}
