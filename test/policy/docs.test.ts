// Every example in the user reference must be valid: documentation that does not load is a defect.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadPins, loadPolicy } from '../../policy/index';

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

  for (const [i, block] of policies.entries()) {
    it(`policy example ${i + 1} loads without errors or warnings`, () => {
      const result = loadPolicy(block.text, 'REFERENCE.md');
      assert.ok(result.ok, JSON.stringify(!result.ok && result.errors, null, 1));
      assert.deepEqual(result.warnings, []);
    });
  }

  it('the pins example is a valid pins file', () => {
    const result = loadPins(pins[0]!.text);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors, null, 1));
  });
});
