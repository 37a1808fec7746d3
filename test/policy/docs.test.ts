// Every example in the user reference must be valid: documentation that does not load is a defect.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  type BaseResolver,
  loadPins,
  loadPolicy,
  loadPolicyTree,
  RELAXATION_CODES,
} from '../../policy/index';

const reference = readFileSync(new URL('../../policy/REFERENCE.md', import.meta.url), 'utf8');
const blocks = [...reference.matchAll(/```(yaml|json)\n([\s\S]*?)```/g)].map((m) => ({
  lang: m[1]!,
  text: m[2]!,
}));

describe('REFERENCE.md examples', () => {
  const policies = blocks.filter((b) => b.lang === 'yaml' && /^version: 1$/m.test(b.text));
  const pins = blocks.filter((b) => b.lang === 'json' && b.text.includes('"packages"'));

  it('has examples to check', () => {
    assert.ok(policies.length >= 4, `found ${policies.length} policy examples`);
    assert.equal(pins.length, 1);
  });

  // Examples that extend bases are loaded with their bases standing in as the smallest valid policy:
  // what is checked is the example itself (the bases' contents are the organisation's).
  const minimalBase: BaseResolver = (reference) => {
    const file = reference.kind === 'path' ? reference.path : reference.url;
    return { text: 'version: 1\n', file, origin: 'path', key: file };
  };
  for (const [i, block] of policies.entries()) {
    it(`policy example ${i + 1} loads without errors or warnings`, () => {
      const result = /^extends:/m.test(block.text)
        ? loadPolicyTree(block.text, 'REFERENCE.md', minimalBase)
        : loadPolicy(block.text, 'REFERENCE.md');
      assert.ok(result.ok, JSON.stringify(!result.ok && result.errors, null, 1));
      assert.deepEqual(result.warnings, []);
    });
  }

  it('an example extends bases, so the tree loader is exercised', () => {
    assert.ok(policies.some((b) => /^extends:/m.test(b.text)));
  });

  it('every policy review code is documented with its fix', () => {
    const missing = RELAXATION_CODES.filter((code) => !reference.includes(`| \`${code}\` |`));
    assert.deepEqual(missing, []);
  });

  it('the pins example is a valid pins file', () => {
    const result = loadPins(pins[0]!.text);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors, null, 1));
  });
});
