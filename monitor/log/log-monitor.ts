// One run over one log. The latest signed checkpoint must verify with a trusted log key and be
// consistent with the last verified one (a smaller tree is a rollback, the same size with another
// root or a failing consistency proof is an inconsistency: both halt the log with both checkpoints
// in the finding). Then new entries are read in batches and appended to the compact range of the
// verified prefix; every segment is proven to be a prefix of the signed tree (its root equals the
// checkpoint's, or a consistency proof from the computed root verifies) before its progress and
// signing events are handed on. An entry is therefore never reported unless it is proven in the tree.
import type { TrustMaterial } from '@sigstore/verify';
import type { LogConfig } from '../config/model';
import { MonitorUsageError, SourceError } from '../errors';
import type { CheckpointSummary, Finding } from '../findings';
import type { LogState, StoredCheckpoint } from '../state/state';
import { type LogKey, type VerifiedCheckpoint, verifyCheckpoint } from './checkpoint';
import { type BodyFacts, certificateDer, inclusionProofOf, type LogEntry, readBody } from './entry';
import { issuedByTrustedCa, verifySignedEntryTimestamp } from './entry-trust';
import { CompactRange, verifyConsistency, verifyInclusion } from './merkle';
import type { RekorClient } from './rekor-client';
import type { CertificateIdentity, IdentityMatcher } from './watched-identities';

export interface SigningEvent {
  log: { name: string; url: string; logId: string };
  logIndex: number;
  uuid: string;
  integratedTime: number;
  /** the SET over the integrated time verified with the log key */
  timeVerified: boolean;
  /** the certificate chains to a CA of the log's trusted root, valid at the integrated time */
  trustedCa: boolean;
  body: BodyFacts;
  identity: CertificateIdentity;
  watched: string[];
  /** Rekor's stored attestation for the entry, when the log serves it (checked against the payload hash later) */
  attestation?: Buffer;
}

export interface LogRunStats {
  entries: number;
  requests: number;
  certificatesParsed: number;
  seconds: number;
  mode: string;
}

export interface LogRunResult {
  /** the state to keep (unchanged progress when the log was halted) */
  state: LogState;
  findings: Finding[];
  stats: LogRunStats;
  /** a message about how the run started, for the first run */
  note?: string;
}

export interface LogRunInput {
  config: LogConfig;
  client: RekorClient;
  keys: readonly LogKey[];
  material: TrustMaterial;
  matcher: IdentityMatcher;
  previous?: LogState;
  now: () => Date;
  /** entries per verified segment (progress is saved after each) */
  segmentSize: number;
  /**
   * Hands on a verified segment (its events, then the progress to save). Reading goes on meanwhile:
   * the next call waits for this one, and the run ends only once the last has finished.
   */
  onSegment: (progress: LogState, events: SigningEvent[]) => Promise<void>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function stored(checkpoint: VerifiedCheckpoint): StoredCheckpoint {
  return {
    origin: checkpoint.origin,
    size: checkpoint.size,
    rootHash: hex(checkpoint.rootHash),
    note: checkpoint.note,
  };
}

function summary(checkpoint: StoredCheckpoint, observedFrom: string): CheckpointSummary {
  return { ...checkpoint, observedFrom };
}

function inconsistency(
  config: LogConfig,
  logId: string,
  kind: 'log-inconsistent' | 'log-rollback',
  summaryText: string,
  details: string[],
  checkpoints: CheckpointSummary[],
): Finding {
  // Named after the checkpoint it contradicts, not the newest one: a log that stays inconsistent while
  // it grows is one incident, reported (and delivered) once.
  const id = `${kind}/${logId}/${checkpoints[0]!.size}:${checkpoints[0]!.rootHash}`;
  return {
    id,
    kind,
    summary: summaryText,
    details: [
      ...details,
      'Until this is explained the monitor does not advance past the last verified checkpoint of this log. ' +
        'Both checkpoints are signed by the log key: keep them, they prove what the log showed.',
    ],
    log: { name: config.name, url: config.url, logId },
    checkpoints,
  };
}

/** Compares the latest checkpoint with the last verified one; a finding when they cannot both be true. */
async function checkConsistency(
  input: LogRunInput,
  known: StoredCheckpoint,
  knownFrom: string,
  latest: VerifiedCheckpoint,
  logId: string,
): Promise<Finding | undefined> {
  const { config, client } = input;
  const newer = stored(latest);
  const both = [summary(known, knownFrom), summary(newer, `${config.url}/api/v1/log`)];
  if (latest.origin !== known.origin) {
    return inconsistency(
      config,
      logId,
      'log-inconsistent',
      `log ${config.name} changed its origin from "${known.origin}" to "${latest.origin}"`,
      [
        'A new origin is a new tree (a shard rotation, or another log signing with the same key): nothing proves it extends the verified one.',
      ],
      both,
    );
  }
  if (latest.size < known.size) {
    return inconsistency(
      config,
      logId,
      'log-rollback',
      `log ${config.name} rolled back from ${known.size} to ${latest.size} entries`,
      [
        `It signed a tree of ${known.size} entries before and now serves one of ${latest.size}: an append-only log never shrinks.`,
      ],
      both,
    );
  }
  if (latest.size === known.size) {
    if (newer.rootHash === known.rootHash) return undefined;
    return inconsistency(
      config,
      logId,
      'log-inconsistent',
      `log ${config.name} signed two different trees of ${known.size} entries`,
      [
        `Root ${known.rootHash} before, ${newer.rootHash} now: a fork, or a split view shown to different clients.`,
      ],
      both,
    );
  }
  if (known.size === 0) return undefined;
  const proof = await client.consistencyProof(known.size, latest.size);
  if (verifyConsistency(known.size, latest.size, Buffer.from(known.rootHash, 'hex'), latest.rootHash, proof))
    return undefined;
  return inconsistency(
    config,
    logId,
    'log-inconsistent',
    `log ${config.name}'s tree of ${latest.size} entries does not extend its tree of ${known.size}`,
    [
      `The consistency proof from ${known.size} to ${latest.size} (${proof.length} hashes) does not verify: the log rewrote its history, or shows different histories to different clients.`,
    ],
    both,
  );
}

/** The first run: a compact range at the configured start, proven from one entry's inclusion proof. */
async function establishStart(
  input: LogRunInput,
  latest: VerifiedCheckpoint,
): Promise<{ state: LogState; finding?: Finding; note: string }> {
  const { config, client, keys } = input;
  const requested = config.start === 'latest' ? latest.size : config.start;
  const start = Math.min(requested, latest.size);
  const base = { url: config.url, logId: latest.logId, updatedAt: input.now().toISOString() };
  const note =
    start === 0
      ? `first run: reading ${config.name} from its first entry`
      : `first run: ${config.name} is read from index ${start}${requested > latest.size ? ` (the configured start ${requested} is beyond its ${latest.size} entries)` : ''}; earlier entries are not examined`;
  if (start === 0)
    return { state: { ...base, checkpoint: stored(latest), verifiedSize: 0, compactRange: [] }, note };
  const entry = await client.entry(start - 1);
  const proof = inclusionProofOf(entry);
  if (!proof)
    throw new SourceError('LOG_RESPONSE_INVALID', `entry ${start - 1} has no inclusion proof to start from`);
  const proven = verifyCheckpoint(proof.checkpoint, keys);
  const hashes = proof.hashes.map((h) => Buffer.from(h, 'hex'));
  if (
    proven.size !== proof.treeSize ||
    hex(proven.rootHash) !== proof.rootHash.toLowerCase() ||
    !verifyInclusion(entry.leafHash, start - 1, proven.size, hashes, proven.rootHash)
  ) {
    throw new SourceError(
      'LOG_RESPONSE_INVALID',
      `the inclusion proof of entry ${start - 1} does not verify against its signed checkpoint`,
    );
  }
  const range = CompactRange.fromInclusionProof(entry.leafHash, start - 1, proven.size, hashes)!;
  // Relate the checkpoint in the entry with the log info's: one must extend the other.
  const [older, newer] = proven.size >= latest.size ? [latest, proven] : [proven, latest];
  const finding = await checkConsistency(
    input,
    stored(older),
    `${config.url}/api/v1/log`,
    newer,
    latest.logId,
  );
  const state: LogState = {
    ...base,
    checkpoint: stored(newer),
    verifiedSize: range.size,
    compactRange: range.hashes.map(hex),
  };
  return finding ? { state, finding, note } : { state, note };
}

function signingEvents(input: LogRunInput, entry: LogEntry, logKey: LogKey | undefined): SigningEvent[] {
  const body = readBody(entry.body);
  const events: SigningEvent[] = [];
  for (const pem of body.verifiers) {
    const der = certificateDer(pem);
    if (!der) continue;
    const match = input.matcher.match(der);
    if (!match) continue;
    const at = new Date(entry.integratedTime * 1000);
    const event: SigningEvent = {
      log: { name: input.config.name, url: input.config.url, logId: logKey ? hex(logKey.logID) : '' },
      logIndex: entry.logIndex,
      uuid: entry.uuid,
      integratedTime: entry.integratedTime,
      timeVerified: logKey !== undefined && verifySignedEntryTimestamp(entry, logKey),
      trustedCa: issuedByTrustedCa(match.identity.certificate, input.material, at),
      body,
      identity: match.identity,
      watched: match.watched.map((w) => w.name),
    };
    if (entry.attestation) event.attestation = entry.attestation;
    events.push(event);
  }
  return events;
}

async function fetchSignedTime(
  client: RekorClient,
  entry: LogEntry,
  events: SigningEvent[],
  key: LogKey,
): Promise<void> {
  const full = await client.entry(entry.logIndex - client.indexOffset);
  if (!full.leafHash.equals(entry.leafHash) || !verifySignedEntryTimestamp(full, key)) return;
  for (const event of events) {
    event.integratedTime = full.integratedTime;
    event.timeVerified = true;
    // A bodies-only answer carries no stored attestation either; the full entry may.
    if (!event.attestation && full.attestation) event.attestation = full.attestation;
  }
}

export async function monitorLog(input: LogRunInput): Promise<LogRunResult> {
  let handingOn: Promise<void> = Promise.resolve();
  try {
    return await readLog(input, (progress, events) => {
      // One segment at a time, in order; its failure (an unwritable state) ends the run below.
      handingOn = handingOn.then(() => input.onSegment(progress, events));
      handingOn.catch(() => undefined); // awaited in the finally below
    });
  } finally {
    await handingOn;
  }
}

async function readLog(
  input: LogRunInput,
  handOn: (progress: LogState, events: SigningEvent[]) => void,
): Promise<LogRunResult> {
  const started = performance.now();
  const { config, client, keys, previous } = input;
  const parsedBefore = input.matcher.parsed;
  const requestsBefore = client.requests;
  const stats = (entries: number): LogRunStats => ({
    entries,
    requests: client.requests - requestsBefore,
    certificatesParsed: input.matcher.parsed - parsedBefore,
    seconds: (performance.now() - started) / 1000,
    mode: client.readMode,
  });

  const info = await client.logInfo();
  const latest = verifyCheckpoint(info.signedTreeHead, keys);
  if (info.treeSize !== latest.size || info.rootHash.toLowerCase() !== hex(latest.rootHash)) {
    throw new SourceError(
      'LOG_RESPONSE_INVALID',
      `${config.url}/api/v1/log: treeSize/rootHash disagree with its own signed tree head`,
    );
  }

  let state: LogState;
  let note: string | undefined;
  if (!previous) {
    const started = await establishStart(input, latest);
    note = started.note;
    if (started.finding)
      return {
        state: { ...started.state, haltedBy: started.finding.id },
        findings: [started.finding],
        stats: stats(0),
        note,
      };
    state = started.state;
  } else {
    if (previous.logId !== latest.logId) {
      throw new SourceError(
        'LOG_KEY_CHANGED',
        `${config.name}'s checkpoints were signed by log key ${previous.logId.slice(0, 16)}… and now by ${latest.logId.slice(0, 16)}…; if the log really rotated its key, remove logs.${config.name} from the state file`,
      );
    }
    const finding = await checkConsistency(
      input,
      previous.checkpoint,
      'the last verified checkpoint (state file)',
      latest,
      latest.logId,
    );
    if (finding)
      return { state: { ...previous, haltedBy: finding.id }, findings: [finding], stats: stats(0) };
    state = { ...previous, url: config.url };
    delete state.haltedBy;
    if (latest.size > previous.checkpoint.size) state.checkpoint = stored(latest);
  }

  const range = CompactRange.of(
    state.verifiedSize,
    state.compactRange.map((h) => Buffer.from(h, 'hex')),
  );
  if (!range || state.verifiedSize > state.checkpoint.size) {
    throw new MonitorUsageError(
      'STATE_INVALID',
      `the state of log ${config.name} is damaged (its compact range does not fit ${state.verifiedSize} entries); remove logs.${config.name} from the state file to start that log again`,
    );
  }
  const target = state.checkpoint;
  const targetRoot = Buffer.from(target.rootHash, 'hex');
  const logKey = keys.find((k) => hex(k.logID) === state.logId);
  let events: SigningEvent[] = [];
  let sinceSegment = 0;
  let read = 0;
  const segmentStart = () => state.verifiedSize;
  const commit = async (): Promise<Finding | undefined> => {
    const ok =
      range.size === target.size
        ? range.root().equals(targetRoot)
        : verifyConsistency(
            range.size,
            target.size,
            range.root(),
            targetRoot,
            await client.consistencyProof(range.size, target.size),
          );
    if (!ok) {
      return inconsistency(
        config,
        state.logId,
        'log-inconsistent',
        `log ${config.name} served entries ${segmentStart()}..${range.size - 1} that are not in the tree it signed`,
        [
          `Appending them to the verified prefix gives root ${hex(range.root())} for ${range.size} entries, which is not a prefix of the signed tree of ${target.size} entries (root ${target.rootHash}).`,
        ],
        [summary(target, `${config.url}/api/v1/log`)],
      );
    }
    state = {
      ...state,
      verifiedSize: range.size,
      compactRange: range.hashes.map(hex),
      updatedAt: input.now().toISOString(),
    };
    handOn(state, events);
    events = [];
    sinceSegment = 0;
    return undefined;
  };

  for await (const chunk of client.entries(range.size, target.size)) {
    for (const entry of chunk) {
      if (entry.logIndex !== range.size + client.indexOffset) {
        throw new SourceError(
          'LOG_RESPONSE_INVALID',
          `expected entry ${range.size + client.indexOffset}, the log served entry ${entry.logIndex}`,
        );
      }
      range.append(entry.leafHash);
      if (input.matcher.active) {
        const found = signingEvents(input, entry, logKey);
        // A batch read may answer bodies without SETs: the signed time of a matched entry is then
        // asked for once, by index, and believed only for the very same body.
        if (found.length && !entry.signedEntryTimestamp && logKey)
          await fetchSignedTime(client, entry, found, logKey);
        events.push(...found);
      }
    }
    read += chunk.length;
    sinceSegment += chunk.length;
    if (sinceSegment >= input.segmentSize || range.size === target.size) {
      const finding = await commit();
      if (finding)
        return {
          state: { ...state, haltedBy: finding.id },
          findings: [finding],
          stats: stats(read),
          ...(note ? { note } : {}),
        };
    }
  }
  if (sinceSegment > 0 || read === 0) {
    // Nothing new (or a trailing partial segment): still hand on the checkpoint progress.
    const finding = await commit();
    if (finding)
      return {
        state: { ...state, haltedBy: finding.id },
        findings: [finding],
        stats: stats(read),
        ...(note ? { note } : {}),
      };
  }
  return { state, findings: [], stats: stats(read), ...(note ? { note } : {}) };
}
