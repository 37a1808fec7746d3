// Signed notes: believed only with a trusted log key's valid signature, under the log's name.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { SourceError } from '../../monitor/errors';
import { type LogKey, parseCheckpoint, verifyCheckpoint } from '../../monitor/log/checkpoint';

function logKey(baseURL = 'http://log.example:8080') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const key: LogKey = {
    logID: createHash('sha256').update(spki).digest(),
    baseURL,
    publicKey,
    validFor: { start: new Date(0), end: new Date(8.64e15) },
  };
  const note = (size: number, root: Buffer, name = 'log.example') => {
    const body = `log.example - 42\n${size}\n${root.toString('base64')}\n`;
    const sig = sign('sha256', Buffer.from(body), privateKey);
    return `${body}\n\u2014 ${name} ${Buffer.concat([key.logID.subarray(0, 4), sig]).toString('base64')}\n`;
  };
  return { key, note };
}

const invalid = (pattern: RegExp) => (err: unknown) =>
  err instanceof SourceError && err.code === 'CHECKPOINT_INVALID' && pattern.test(err.message);

describe('checkpoints (C2SP signed notes)', () => {
  const root = Buffer.alloc(32, 1);

  test('a note signed by the trusted log key verifies and says size and root', () => {
    const { key, note } = logKey();
    const checkpoint = verifyCheckpoint(note(12, root), [key]);
    assert.equal(checkpoint.size, 12);
    assert.ok(checkpoint.rootHash.equals(root));
    assert.equal(checkpoint.origin, 'log.example - 42');
    assert.equal(checkpoint.logId, key.logID.toString('hex'));
  });

  test('an edited body, another key, another name or no signature is refused', () => {
    const { key, note } = logKey();
    const other = logKey();
    const good = note(12, root);
    assert.throws(
      () => verifyCheckpoint(good.replace('\n12\n', '\n13\n'), [key]),
      invalid(/does not verify/),
    );
    assert.throws(
      () => verifyCheckpoint(other.note(12, root), [key]),
      invalid(/signed by no log key of the trusted root/),
    );
    assert.throws(
      () => verifyCheckpoint(note(12, root, 'evil.example'), [key]),
      invalid(/signed by no log key/),
    );
    assert.throws(() => verifyCheckpoint(good.split('\n\n')[0], [key]), invalid(/malformed/));
  });

  test('malformed notes are refused before any signature is checked', () => {
    for (const text of [
      '',
      'a\n\n',
      'origin\n-1\nAAAA\n\n— x AAAAAAAA\n',
      `origin\n1\n${'A'.repeat(43)}=\n\n— x !!\n`,
      `origin\n01\n${root.toString('base64')}\n\n— x AAAAAAAA\n`,
    ]) {
      assert.throws(() => parseCheckpoint(text), invalid(/malformed/), JSON.stringify(text));
    }
  });
});
