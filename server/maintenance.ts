// The operator's tools for a data folder whose logs no longer match what they committed to (the
// server refuses to start on it, exit code 3):
//
//   tollgate-server verify --data DIR              every checkpoint of every log, against entries.log
//   tollgate-server repair --data DIR --from COPY  restore each damaged log from a copy of the folder
//
// repair takes the data folder's lock (no server may run), checks that COPY is a copy of the same
// instance, and for each log that fails its checks installs the copy's entries.log, but only if the
// copy satisfies every checkpoint either folder has committed to: a copy that is too old, or of
// another history, is refused and nothing is changed for that log. The damaged files are kept
// next to the restored ones (*.damaged-<time>). Derived files are rebuilt on the next start.
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { acquireDataLock } from './data-lock';
import { copyFileDurably, fsyncDirectory, writeFileDurably } from './durable-files';
import { ConfigError } from './errors';
import { auditLog, headProblem, scanEntriesFile } from './log/audit';
import { CHECKPOINTS_FILE, encodeHead, readCheckpointFile, type TreeHead } from './log/checkpoint-log';

export const LOGS = [
  { folder: 'tlog', name: 'transparency log' },
  { folder: 'ctlog', name: 'certificate transparency log' },
] as const;

export interface MaintenanceOutcome {
  ok: boolean;
  lines: string[];
}

function instanceId(dataDir: string): string | null {
  const path = join(dataDir, 'keys', 'instance.json');
  if (!existsSync(path)) return null;
  try {
    return String((JSON.parse(readFileSync(path, 'utf8')) as { treeId?: unknown }).treeId);
  } catch {
    return null;
  }
}

export function verifyDataFolder(dataDirArg: string): MaintenanceOutcome {
  const dataDir = resolve(dataDirArg);
  if (!existsSync(join(dataDir, 'keys')))
    throw new ConfigError(`${dataDir} is not a tollgate-server data folder`);
  const lock = acquireDataLock(dataDir);
  try {
    const lines: string[] = [];
    let ok = true;
    for (const log of LOGS) {
      const audit = auditLog(join(dataDir, log.folder));
      const { heads, damaged } = audit.checkpoints;
      const tail = audit.scanned.fileSize - audit.scanned.end;
      const status = audit.failures.length === 0 && damaged.length === 0;
      ok &&= status;
      lines.push(
        `${log.folder} (${log.name}): ${audit.scanned.tree.size} entries, ${heads.length} checkpoints` +
          `${status ? ', every checkpoint satisfied' : ''}${tail > 0 ? `; ${tail} bytes after the last intact entry` : ''}`,
      );
      if (damaged.length > 0) lines.push(`  checkpoints.log records ${damaged.join(', ')} are damaged`);
      for (const { head, problem } of audit.failures.slice(0, 5)) {
        lines.push(`  checkpoint of size ${head.size}: ${problem}`);
      }
      if (audit.failures.length > 5) lines.push(`  ... and ${audit.failures.length - 5} more checkpoints`);
    }
    if (!ok)
      lines.push(`to restore: tollgate-server repair --data ${dataDir} --from <copy of the data folder>`);
    return { ok, lines };
  } finally {
    lock.release();
  }
}

/** Every head either folder knows, by size; two different roots for one size are two histories. */
function mergeHeads(ours: TreeHead[], theirs: TreeHead[]): TreeHead[] | string {
  const bySize = new Map<number, TreeHead>();
  for (const head of [...ours, ...theirs]) {
    const known = bySize.get(head.size);
    if (known && !known.root.equals(head.root)) {
      return `the copy committed to root ${head.root.toString('hex')} at size ${head.size}, this folder to ${known.root.toString('hex')}: they are different histories`;
    }
    if (!known || head.at < known.at) bySize.set(head.size, head);
  }
  return [...bySize.values()].sort((a, b) => a.size - b.size);
}

export function repairDataFolder(dataDirArg: string, copyArg: string): MaintenanceOutcome {
  const dataDir = resolve(dataDirArg);
  const copy = resolve(copyArg);
  if (copy === dataDir)
    throw new ConfigError('--from must be a copy of the data folder, not the folder itself');
  const ours = instanceId(dataDir);
  const theirs = instanceId(copy);
  if (ours === null)
    throw new ConfigError(`${dataDir} has no keys/instance.json: it is not a tollgate-server data folder`);
  if (theirs === null)
    throw new ConfigError(`${copy} has no keys/instance.json: it is not a copy of a data folder`);
  if (ours !== theirs) {
    throw new ConfigError(
      `${copy} is a copy of another instance (tree ID ${theirs}, not ${ours}); restore from a copy of this one`,
    );
  }
  const lock = acquireDataLock(dataDir);
  try {
    const lines: string[] = [];
    let ok = true;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    for (const log of LOGS) {
      const dir = join(dataDir, log.folder);
      const copyDir = join(copy, log.folder);
      const own = auditLog(dir);
      const copied = readCheckpointFile(join(copyDir, CHECKPOINTS_FILE));
      const merged = mergeHeads(own.checkpoints.heads, copied.heads);
      if (typeof merged === 'string') {
        ok = false;
        lines.push(`${log.folder}: not repaired: ${merged}`);
        continue;
      }
      const ownProblems = merged.map((head) => headProblem(own.scanned, head)).filter((p) => p !== undefined);
      if (ownProblems.length === 0 && own.checkpoints.damaged.length === 0) {
        lines.push(
          `${log.folder}: intact (${own.scanned.tree.size} entries, ${merged.length} checkpoints); left as it is`,
        );
        continue;
      }
      const scanned = scanEntriesFile(join(copyDir, 'entries.log'));
      const problems = merged
        .map((head) => ({ head, problem: headProblem(scanned, head) }))
        .filter((p) => p.problem !== undefined);
      if (problems.length > 0) {
        ok = false;
        const worst = problems[problems.length - 1]!;
        lines.push(
          `${log.folder}: not repaired: the copy's entries.log does not satisfy ${problems.length} of the ${merged.length} ` +
            `checkpoints this log committed to (checkpoint of size ${worst.head.size}: ${worst.problem}); ` +
            'use a more recent copy. Nothing was changed.',
        );
        continue;
      }
      // Install: the copy's intact records, then the merged heads; damaged files are kept aside.
      const entries = join(dir, 'entries.log');
      const restoring = join(dir, '.entries.log.restoring');
      copyFileDurably(join(copyDir, 'entries.log'), restoring);
      if (existsSync(entries)) renameSync(entries, `${entries}.damaged-${stamp}`);
      renameSync(restoring, entries);
      fsyncDirectory(dir);
      const checkpoints = join(dir, CHECKPOINTS_FILE);
      if (existsSync(checkpoints)) copyFileSync(checkpoints, `${checkpoints}.damaged-${stamp}`);
      writeFileDurably(checkpoints, Buffer.concat(merged.map(encodeHead)));
      for (const derived of ['offsets.idx', 'search.idx']) rmSync(join(dir, derived), { force: true });
      for (let level = 0; level < 64; level++)
        rmSync(join(dir, `level-${String(level).padStart(2, '0')}.hash`), { force: true });
      const lost = Math.max(0, own.scanned.tree.size - scanned.tree.size);
      lines.push(
        `${log.folder}: restored from ${copyDir}: ${scanned.tree.size} entries satisfy all ${merged.length} checkpoints` +
          `${own.checkpoints.damaged.length ? ` (${own.checkpoints.damaged.length} damaged checkpoint records could not be read and were not checked)` : ''}` +
          `${lost ? `; ${lost} intact entries after the damage were not in the copy (never acknowledged past the last checkpoint)` : ''}` +
          `; the damaged files are kept as *.damaged-${stamp}`,
      );
    }
    lines.push(
      ok ? 'start the server again; it rebuilds the derived files' : 'some logs could not be repaired',
    );
    return { ok, lines };
  } finally {
    lock.release();
  }
}
