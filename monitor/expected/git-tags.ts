// Expected releases from a repository's tags, read with `git ls-remote --tags` (a URL or a local
// path alike), so that no clone is needed. Annotated tags are peeled to the commit they point at.
import { execFile } from 'node:child_process';
import { SourceError } from '../errors';

export interface GitTag {
  name: string;
  /** the commit the tag points at (peeled) */
  commit: string;
}

const TIMEOUT_MS = 60_000;

export function parseLsRemote(output: string): Map<string, GitTag> {
  const tags = new Map<string, GitTag>();
  for (const line of output.split('\n')) {
    const match = /^([0-9a-f]{40,64})\trefs\/tags\/(.+)$/.exec(line.trim());
    if (!match) continue;
    const [, sha, ref] = match as unknown as [string, string, string];
    if (ref.endsWith('^{}')) tags.set(ref.slice(0, -3), { name: ref.slice(0, -3), commit: sha });
    else if (!tags.has(ref)) tags.set(ref, { name: ref, commit: sha });
  }
  return tags;
}

export function readGitTags(repository: string): Promise<Map<string, GitTag>> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['ls-remote', '--tags', '--', repository],
      {
        timeout: TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      },
      (err, stdout, stderr) => {
        if (err) {
          const why = (stderr || err.message).trim().split('\n')[0];
          reject(
            new SourceError('RELEASES_UNAVAILABLE', `git ls-remote --tags ${repository} failed: ${why}`),
          );
          return;
        }
        resolve(parseLsRemote(stdout));
      },
    );
  });
}
