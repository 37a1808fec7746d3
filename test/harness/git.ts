// Real git repositories made by tests (policy review, the GitHub Action): a fixed identity and no
// system configuration, so commits are the same on every machine.
import { execFileSync } from 'node:child_process';
import type { YarnProject } from './yarn-project';

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'test',
      GIT_AUTHOR_EMAIL: 'test@example.invalid',
      GIT_COMMITTER_NAME: 'test',
      GIT_COMMITTER_EMAIL: 'test@example.invalid',
      GIT_CONFIG_NOSYSTEM: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString('utf8');
}

/** Turns the project into a git repository with everything committed on `main`. */
export function commitAll(project: YarnProject, message = 'base'): void {
  if (!project.exists('.git')) {
    git(project.dir, 'init', '-q', '-b', 'main');
    project.write('.gitignore', 'node_modules\n.yarn/cache\n.yarn/install-state.gz\n');
  }
  git(project.dir, 'add', '-A');
  git(project.dir, 'commit', '-q', '--allow-empty', '-m', message);
}
