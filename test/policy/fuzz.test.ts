// Fuzz: thousands of mutated policies. The loader must never throw and must always return either a
// valid policy or errors that are located (file, line >= 1, column >= 1, a code and a message) and
// never an internal error; every policy it accepts must evaluate without throwing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { type Decision, evaluate, loadPolicy, type PolicyLoadResult } from '../../policy/index';
import { evidenceFor, githubBundle, NOW } from './helpers';

const SEEDS = [
  readFileSync(new URL('./fixtures/full.tollgate.yml', import.meta.url), 'utf8'),
  'version: 1\n',
  'version: 1\nmode: warn\ndefaults: { require: registry-signature, minReleaseAge: 3d }\nrules:\n  - packages: "@a/*"\n    registries: https://r.example\n',
];

function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  '',
  ' ',
  '\n',
  '\t',
  ':',
  ': ',
  '- ',
  '-',
  '[',
  ']',
  '{',
  '}',
  ',',
  '"',
  "'",
  '#',
  '&a ',
  '*a',
  '!!binary ',
  '!!str ',
  '? ',
  '|',
  '>',
  '---',
  '...',
  '%YAML 1.2',
  '~',
  'null',
  'true',
  '0',
  '-1',
  '1e999',
  '0x10',
  '2027-13-45',
  `\${version}`,
  '\\',
  '^',
  '$',
  '(',
  ')',
  '.*',
  '**',
  '@',
  '/',
  'version',
  'rules',
  'packages',
  'signers',
  'issuer',
  'subject',
  'regex',
  'glob',
  'exact',
  'require',
  'provenance',
  'signature',
  'none',
  'trust',
  'acme',
  'public-good',
  'exceptions',
  'expires',
  'reason',
  'registries',
  'https://x.example',
  'versions',
  '>=2',
  'mode',
  'off',
  'sources',
  'git',
  'tag',
  'events',
  'deny',
  'allow',
  'repositoryId',
  'minReleaseAge',
  '3d',
  'waive',
  'evidence-missing',
  '\u0000',
  '\uFEFF',
  '\u2028',
  '😀',
  'a'.repeat(200),
];

const VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  '',
  'any',
  'x',
  '*',
  '**',
  '^a$',
  'a|b',
  '@acme/*',
  '>=2',
  'not a range',
  '3d',
  '2030-01-01',
  'https://r.example',
  'enforce',
  'bogus',
  [],
  [null],
  [{}],
  {},
  { glob: '*' },
  { regex: 'x' },
  { regex: '^a|b$' },
  { exact: 'a', glob: 'b' },
  ['a', 1],
  { issuer: 'https://i.example' },
  `v\${version}`,
  `v\${nope}`,
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function mutateText(text: string, random: () => number): string {
  let out = text;
  const steps = 1 + Math.floor(random() * 3);
  for (let s = 0; s < steps; s++) {
    const at = Math.floor(random() * (out.length + 1));
    switch (Math.floor(random() * 6)) {
      case 0:
        out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 8));
        break;
      case 1:
        out = out.slice(0, at) + pick(random, TOKENS) + out.slice(at);
        break;
      case 2: {
        const lines = out.split('\n');
        const i = Math.floor(random() * lines.length);
        lines.splice(i, 0, lines[Math.floor(random() * lines.length)] ?? '');
        out = lines.join('\n');
        break;
      }
      case 3: {
        const lines = out.split('\n');
        const i = Math.floor(random() * lines.length);
        lines[i] = (random() < 0.5 ? '  ' : '') + (lines[i] ?? '').replace(/^ {0,2}/, '');
        out = lines.join('\n');
        break;
      }
      case 4:
        out = out.slice(0, at) + String.fromCharCode(Math.floor(random() * 0x2ff)) + out.slice(at);
        break;
      default: {
        const lines = out.split('\n');
        const i = Math.floor(random() * lines.length);
        const j = Math.floor(random() * lines.length);
        [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
        out = lines.join('\n');
      }
    }
  }
  return out;
}

/** Replaces, deletes or renames one node of the parsed document, keeping the rest valid. */
function mutateStructure(text: string, random: () => number): string {
  const doc = parse(text) as Record<string, unknown>;
  const containers: [object, string | number][] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) {
      node.forEach((value, i) => {
        containers.push([node, i]);
        walk(value);
      });
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        containers.push([node, key]);
        walk(value);
      }
    }
  };
  walk(doc);
  const steps = 1 + Math.floor(random() * 2);
  for (let s = 0; s < steps && containers.length; s++) {
    const [parent, key] = pick(random, containers);
    const record = parent as Record<string | number, unknown>;
    const action = random();
    if (action < 0.5) record[key] = structuredClone(pick(random, VALUES));
    else if (action < 0.7 && !Array.isArray(parent)) delete record[key];
    else if (!Array.isArray(parent) && typeof key === 'string') {
      const value = record[key];
      delete record[key];
      record[key.slice(0, -1) + pick(random, ['s', 'x', '', 'e'])] = value;
    } else if (Array.isArray(parent)) parent.push(structuredClone(parent[0]));
  }
  return stringify(doc);
}

function checkResult(result: PolicyLoadResult, text: string) {
  if (result.ok) {
    for (const rule of result.policy.rules) assert.ok(rule.location.line >= 1);
    return;
  }
  assert.ok(result.errors.length > 0, `refused without an error:\n${text}`);
  for (const error of result.errors) {
    assert.notEqual(error.code, 'internal-error', `${error.message}\n--- input ---\n${text}`);
    assert.equal(error.file, 'fuzz.yml');
    assert.ok(Number.isInteger(error.line) && error.line >= 1, JSON.stringify(error));
    assert.ok(Number.isInteger(error.column) && error.column >= 1, JSON.stringify(error));
    assert.ok(error.code && error.message && error.field, JSON.stringify(error));
  }
}

function evaluateSome(result: PolicyLoadResult): Decision[] {
  if (!result.ok) return [];
  const evidence = evidenceFor('@acme/tool', '2.3.1', [
    githubBundle(),
    githubBundle({ trustRoot: 'acme', kind: 'signature' }),
  ]);
  return [
    evaluate({
      policy: result.policy,
      package: { name: '@acme/tool', version: '2.3.1', source: 'npm', registry: 'https://r.example' },
      evidence,
      now: NOW,
    }),
    evaluate({ policy: result.policy, package: { name: 'x', version: '0.0.1', source: 'git' }, now: NOW }),
  ];
}

describe('fuzz: loadPolicy on mutated policies', () => {
  it('text mutations: never throws, always a valid policy or located errors', () => {
    const random = mulberry32(0x70116a7e);
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const text = mutateText(pick(random, SEEDS), random);
      const result = loadPolicy(text, 'fuzz.yml', { now: NOW });
      checkResult(result, text);
      if (result.ok) accepted++;
      for (const d of evaluateSome(result)) assert.ok(['allow', 'warn', 'deny'].includes(d.verdict));
    }
    // Both branches must be exercised, or the fuzzer is not testing anything.
    assert.ok(accepted > 100 && accepted < 2900, `accepted ${accepted} of 3000`);
  });

  it('structural mutations: never throws, always a valid policy or located errors', () => {
    const random = mulberry32(0x5eed);
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      const text = mutateStructure(pick(random, SEEDS), random);
      const result = loadPolicy(text, 'fuzz.yml', { now: NOW });
      checkResult(result, text);
      if (result.ok) accepted++;
      for (const d of evaluateSome(result)) assert.ok(['allow', 'warn', 'deny'].includes(d.verdict));
    }
    assert.ok(accepted > 50 && accepted < 1950, `accepted ${accepted} of 2000`);
  });

  it('random bytes: never throws', () => {
    const random = mulberry32(7);
    for (let i = 0; i < 500; i++) {
      const text = Array.from({ length: Math.floor(random() * 200) }, () =>
        String.fromCharCode(Math.floor(random() * 256)),
      ).join('');
      checkResult(loadPolicy(text, 'fuzz.yml'), text);
    }
  });
});
