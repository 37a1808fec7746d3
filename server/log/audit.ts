// Read-only checks of one log folder (a live one or a copy) against tree heads: does its
// entries.log reach each head and hash to its root? Used by `tollgate-server verify` (every head
// in the folder) and `tollgate-server repair` (a copy against the damaged folder's heads).
import { closeSync, existsSync, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHECKPOINTS_FILE,
  type CheckpointFileState,
  readCheckpointFile,
  type TreeHead,
} from './checkpoint-log';
import { hashLeaf, rootHash } from './merkle';
import { scanRecords } from './record-codec';
import { MerkleLevels } from './tree';

export interface ScannedEntries {
  tree: MerkleLevels;
  /** Where the intact records end, and the file's size. */
  end: number;
  fileSize: number;
}

export function scanEntriesFile(path: string): ScannedEntries {
  const tree = new MerkleLevels();
  if (!existsSync(path)) return { tree, end: 0, fileSize: 0 };
  const fd = openSync(path, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    const end = scanRecords(fd, fileSize, (record) => tree.append(hashLeaf(record.body)));
    return { tree, end, fileSize };
  } finally {
    closeSync(fd);
  }
}

/** Why the scanned entries do not match `head`, or undefined when they do. */
export function headProblem(scanned: ScannedEntries, head: TreeHead): string | undefined {
  if (scanned.tree.size < head.size) {
    return `it holds ${scanned.tree.size} entries, fewer than the checkpoint of size ${head.size}`;
  }
  const root = rootHash(scanned.tree, head.size);
  if (!root.equals(head.root)) {
    return `its first ${head.size} entries hash to ${root.toString('hex')}, not to the checkpoint's root ${head.root.toString('hex')}`;
  }
  return undefined;
}

export interface LogAudit {
  dir: string;
  scanned: ScannedEntries;
  checkpoints: CheckpointFileState;
  /** Heads the entries do not satisfy, with the reason. */
  failures: { head: TreeHead; problem: string }[];
}

/** Checks a log folder's entries against every head in its own checkpoints.log. */
export function auditLog(dir: string): LogAudit {
  const scanned = scanEntriesFile(join(dir, 'entries.log'));
  const checkpoints = readCheckpointFile(join(dir, CHECKPOINTS_FILE));
  const failures: LogAudit['failures'] = [];
  for (const head of checkpoints.heads) {
    const problem = headProblem(scanned, head);
    if (problem) failures.push({ head, problem });
  }
  return { dir, scanned, checkpoints, failures };
}
