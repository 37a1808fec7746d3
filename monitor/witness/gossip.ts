// A minimal witness exchange: another observer's checkpoints of the same log (its state file, or a
// URL serving it or `{"checkpoints": [note, ...]}` as `tollgate-monitor checkpoints` prints) are
// compared with this monitor's. A note counts only if it verifies with the log's trusted key, so a
// witness cannot invent anything; two verified checkpoints that cannot both be prefixes of one tree
// prove the log showed different trees to different clients.
import { readFileSync } from 'node:fs';
import type { WitnessConfig } from '../config/model';
import { describeError, SourceError, type SourceProblem } from '../errors';
import type { Finding } from '../findings';
import type { HttpClient } from '../http/client';
import { type LogKey, type VerifiedCheckpoint, verifyCheckpoint } from '../log/checkpoint';
import { verifyConsistency } from '../log/merkle';
import type { RekorClient } from '../log/rekor-client';
import type { LogState, StoredCheckpoint } from '../state/state';

export interface WitnessedLog {
  name: string;
  url: string;
  state: LogState;
  keys: readonly LogKey[];
  client: RekorClient;
}

/** Every string that looks like a signed note in a witness document. */
export function notesOf(document: unknown): string[] {
  const notes: string[] = [];
  const doc = document as { logs?: unknown; checkpoints?: unknown } | null;
  if (doc && typeof doc.logs === 'object' && doc.logs !== null) {
    for (const log of Object.values(doc.logs as Record<string, unknown>)) {
      const note = (log as { checkpoint?: { note?: unknown } } | null)?.checkpoint?.note;
      if (typeof note === 'string') notes.push(note);
    }
  }
  if (Array.isArray(doc?.checkpoints))
    for (const note of doc.checkpoints) if (typeof note === 'string') notes.push(note);
  return notes;
}

async function readWitness(witness: WitnessConfig, http: HttpClient): Promise<unknown> {
  if (witness.kind === 'file') {
    try {
      return JSON.parse(readFileSync(witness.path, 'utf8'));
    } catch (err) {
      throw new SourceError(
        'WITNESS_UNAVAILABLE',
        `${witness.display}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`,
      );
    }
  }
  try {
    return await http.getJson(witness.url);
  } catch (err) {
    throw new SourceError('WITNESS_UNAVAILABLE', describeError(err));
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function splitView(
  log: WitnessedLog,
  witness: WitnessConfig,
  ours: StoredCheckpoint,
  theirs: VerifiedCheckpoint,
  why: string,
): Finding {
  const theirsStored = {
    origin: theirs.origin,
    size: theirs.size,
    rootHash: hex(theirs.rootHash),
    note: theirs.note,
  };
  return {
    // Named after the witness's checkpoint: a log that keeps showing us another tree is one incident.
    id: `split-view/${log.state.logId}/${witness.name}/${theirs.size}:${hex(theirs.rootHash)}`,
    kind: 'split-view',
    summary: `log ${log.name} showed witness ${witness.name} a tree that is inconsistent with the one it shows this monitor`,
    details: [
      why,
      'Both checkpoints are signed by the log key, so the log itself is the source of both: keep them, together they prove it.',
    ],
    log: { name: log.name, url: log.url, logId: log.state.logId },
    checkpoints: [
      { ...ours, observedFrom: `this monitor (${log.url})` },
      { ...theirsStored, observedFrom: `witness ${witness.name}` },
    ],
  };
}

async function compareOne(
  log: WitnessedLog,
  witness: WitnessConfig,
  theirs: VerifiedCheckpoint,
): Promise<Finding | undefined> {
  const ours = log.state.checkpoint;
  const ourRoot = Buffer.from(ours.rootHash, 'hex');
  if (theirs.origin !== ours.origin) {
    return splitView(
      log,
      witness,
      ours,
      theirs,
      `The witness's checkpoint names origin "${theirs.origin}", this monitor's "${ours.origin}": the same key signs two trees.`,
    );
  }
  if (theirs.size === ours.size) {
    if (hex(theirs.rootHash) === ours.rootHash) return undefined;
    return splitView(
      log,
      witness,
      ours,
      theirs,
      `Both checkpoints are of ${ours.size} entries, with roots ${ours.rootHash} and ${hex(theirs.rootHash)}.`,
    );
  }
  if (theirs.size < ours.size) {
    if (theirs.size === 0) return undefined;
    const proof = await log.client.consistencyProof(theirs.size, ours.size);
    if (verifyConsistency(theirs.size, ours.size, theirs.rootHash, ourRoot, proof)) return undefined;
    return splitView(
      log,
      witness,
      ours,
      theirs,
      `No consistency proof links the witness's tree of ${theirs.size} entries to this monitor's of ${ours.size}: the log's proof does not verify.`,
    );
  }
  // The witness saw a larger tree: the log must serve one at least as large now, extending both.
  const latest = verifyCheckpoint((await log.client.logInfo()).signedTreeHead, log.keys);
  if (latest.size < theirs.size) {
    return splitView(
      log,
      witness,
      ours,
      theirs,
      `The witness was shown ${theirs.size} entries, while the log now shows this monitor only ${latest.size}.`,
    );
  }
  const proof = await log.client.consistencyProof(theirs.size, latest.size);
  if (verifyConsistency(theirs.size, latest.size, theirs.rootHash, latest.rootHash, proof)) return undefined;
  return splitView(
    log,
    witness,
    ours,
    theirs,
    `The witness's tree of ${theirs.size} entries is not a prefix of the log's current tree of ${latest.size}.`,
  );
}

export async function compareWithWitnesses(input: {
  witnesses: readonly WitnessConfig[];
  logs: readonly WitnessedLog[];
  http: HttpClient;
}): Promise<{ findings: Finding[]; problems: SourceProblem[]; compared: number }> {
  const findings: Finding[] = [];
  const problems: SourceProblem[] = [];
  let compared = 0;
  for (const witness of input.witnesses) {
    let notes: string[];
    try {
      notes = notesOf(await readWitness(witness, input.http));
    } catch (err) {
      problems.push({ code: 'WITNESS_UNAVAILABLE', source: witness.name, message: describeError(err) });
      continue;
    }
    for (const note of notes) {
      for (const log of input.logs) {
        let theirs: VerifiedCheckpoint;
        try {
          theirs = verifyCheckpoint(note, log.keys);
        } catch {
          continue; // not this log's, or not signed by its key: a witness's word alone proves nothing
        }
        if (theirs.logId !== log.state.logId) continue;
        compared++;
        try {
          const finding = await compareOne(log, witness, theirs);
          if (finding) findings.push(finding);
        } catch (err) {
          problems.push({
            code: 'WITNESS_UNAVAILABLE',
            source: `${witness.name} / ${log.name}`,
            message: describeError(err),
          });
        }
      }
    }
  }
  return { findings, problems, compared };
}
