// The state file: replaced atomically (no temporary left behind, the old content intact when the
// write fails), and refused with a message saying what to do when it is damaged or foreign.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MonitorUsageError } from '../../monitor/errors';
import { emptyState, readState, writeState, writeStateAsync } from '../../monitor/state/state';
import { Scope } from '../harness/scope';
import { temporary } from './support';

describe('monitor state file', () => {
  const cleanup = new Scope();
  after(() => cleanup.close());

  test('a missing file is an empty state; a written one reads back, with no temporary file left', () => {
    const dir = temporary(cleanup, 'monitor-state');
    const path = join(dir, 'state.json');
    assert.deepEqual(readState(path), emptyState());
    const state = emptyState();
    state.logs['acme'] = {
      url: 'http://127.0.0.1:1',
      logId: 'ab'.repeat(32),
      checkpoint: { origin: 'o', size: 3, rootHash: 'cd'.repeat(32), note: 'o\n3\nx\n\n— o y\n' },
      verifiedSize: 3,
      compactRange: ['ef'.repeat(32), '01'.repeat(32)],
      updatedAt: new Date(0).toISOString(),
    };
    writeState(path, state);
    assert.deepEqual(readState(path), state);
    assert.deepEqual(readdirSync(dir), ['state.json']);
  });

  test('a failed write says why and leaves no temporary file behind', () => {
    const dir = temporary(cleanup, 'monitor-state');
    // The state path is a folder with content: the final rename fails after the temporary was written.
    const path = join(dir, 'state.json');
    mkdirSync(join(path, 'occupied'), { recursive: true });
    assert.throws(
      () => writeState(path, emptyState()),
      (err: unknown) =>
        err instanceof MonitorUsageError &&
        err.code === 'STATE_UNWRITABLE' &&
        /cannot be written/.test(err.message),
    );
    assert.deepEqual(readdirSync(dir), ['state.json']);
    assert.deepEqual(readdirSync(path), ['occupied']);
  });

  test('the asynchronous writer: the state as it was when called, read back; a failure says why and leaves nothing behind', async () => {
    const dir = temporary(cleanup, 'monitor-state');
    const path = join(dir, 'state.json');
    const state = emptyState();
    state.updatedAt = new Date(1000).toISOString();
    const writing = writeStateAsync(path, state);
    state.updatedAt = new Date(2000).toISOString(); // a change after the call does not reach this write
    await writing;
    assert.equal(readState(path).updatedAt, new Date(1000).toISOString());
    assert.deepEqual(readdirSync(dir), ['state.json']);

    const occupied = join(dir, 'occupied.json');
    mkdirSync(join(occupied, 'inside'), { recursive: true });
    await assert.rejects(
      writeStateAsync(occupied, emptyState()),
      (err: unknown) =>
        err instanceof MonitorUsageError &&
        err.code === 'STATE_UNWRITABLE' &&
        /occupied\.json cannot be written/.test(err.message),
    );
    assert.deepEqual(readdirSync(dir).sort(), ['occupied.json', 'state.json']);
  });

  for (const [name, text, why] of [
    ['not JSON', '{"format": "tollgate', /not JSON/],
    ['another format', '{"format": "something-else"}', /"format" is not "tollgate-monitor-state\/1"/],
    [
      'a damaged log',
      JSON.stringify({
        ...emptyState(),
        logs: { acme: { logId: 'x', checkpoint: {}, verifiedSize: 1, compactRange: ['zz'] } },
      }),
      /logs\.acme is damaged/,
    ],
  ] as const) {
    test(`a state file that is ${name} is refused with the fix`, () => {
      const dir = temporary(cleanup, 'monitor-state');
      const path = join(dir, 'state.json');
      writeFileSync(path, text);
      assert.throws(
        () => readState(path),
        (err: unknown) =>
          err instanceof MonitorUsageError &&
          err.code === 'STATE_INVALID' &&
          why.test(err.message) &&
          /restore it from a backup, or delete it to start over/.test(err.message),
      );
    });
  }
});
