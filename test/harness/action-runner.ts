// Runs a composite GitHub Action (action.yml) locally, step by step, as the runner would: inputs with
// their defaults, `if:` conditions, `env:` and `with:` expressions, `run:` steps through
// `bash --noprofile --norc -eo pipefail`, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files per step, step
// outputs and the action's outputs. `uses:` steps cannot run here: they are recorded with their
// evaluated inputs for the test to check. Only the expression forms the action uses are understood
// (contexts inputs.*, steps.*.outputs.*; always(), success(), failure(); ==, !=, &&; string
// literals); anything else throws, so the action cannot drift into something this runner fakes.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { removeAtExit } from './paths';
import { type RunResult, run } from './process';

interface StepSpec {
  id?: string;
  name?: string;
  if?: string;
  shell?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

export interface ActionSpec {
  name: string;
  inputs: Record<string, { description?: string; default?: string; required?: boolean }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: StepSpec[] };
}

export interface StepRecord {
  id: string;
  ran: boolean;
  /** `run:` steps: the process result */
  result?: RunResult;
  /** `uses:` steps: the action and its evaluated `with:` */
  uses?: string;
  with?: Record<string, string>;
  outputs: Record<string, string>;
  outcome: 'success' | 'failure' | 'skipped';
}

export interface ActionRun {
  status: 'success' | 'failure';
  steps: StepRecord[];
  step(id: string): StepRecord;
  outputs: Record<string, string>;
  summary: string;
  /** every step's stdout and stderr, in order */
  log: string;
}

export function readAction(path: string): ActionSpec {
  return parseYaml(readFileSync(path, 'utf8')) as ActionSpec;
}

interface Context {
  inputs: Record<string, string>;
  steps: Record<string, { outputs: Record<string, string> }>;
  failed: boolean;
}

function evaluate(expression: string, ctx: Context): string | boolean {
  const terms = expression.split('&&').map((t) => t.trim());
  if (terms.length > 1) return terms.every((t) => truthy(evaluate(t, ctx)));
  const comparison = expression.match(/^(.+?)\s*(==|!=)\s*(.+)$/);
  if (comparison) {
    const left = value(comparison[1]!.trim(), ctx);
    const right = value(comparison[3]!.trim(), ctx);
    return comparison[2] === '==' ? left === right : left !== right;
  }
  return value(expression, ctx);
}

function value(term: string, ctx: Context): string | boolean {
  if (term === 'always()') return true;
  if (term === 'success()') return !ctx.failed;
  if (term === 'failure()') return ctx.failed;
  const literal = term.match(/^'((?:[^']|'')*)'$/);
  if (literal) return literal[1]!.replace(/''/g, "'");
  const input = term.match(/^inputs\.([A-Za-z0-9_-]+)$/);
  if (input) {
    if (!(input[1]! in ctx.inputs)) throw new Error(`action.yml: ${term} is not a declared input`);
    return ctx.inputs[input[1]!]!;
  }
  const output = term.match(/^steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)$/);
  if (output) {
    const step = ctx.steps[output[1]!];
    if (!step) throw new Error(`action.yml: ${term} names a step that has not run before`);
    return step.outputs[output[2]!] ?? '';
  }
  throw new Error(`action.yml: the expression "${term}" is not one this runner understands`);
}

function truthy(v: string | boolean): boolean {
  return typeof v === 'boolean' ? v : v !== '';
}

/** Substitutes every `${{ … }}` in a string. */
function interpolate(text: string, ctx: Context): string {
  return text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, expr: string) => String(evaluate(expr, ctx)));
}

function condition(text: string | undefined, ctx: Context): boolean {
  if (text === undefined) return !ctx.failed;
  const expr = text.trim().replace(/^\$\{\{\s*(.+?)\s*\}\}$/, '$1');
  // A condition without a status function implies success(), as on GitHub.
  const implied = /\b(always|success|failure|cancelled)\(\)/.test(expr) ? expr : `success() && ${expr}`;
  return truthy(evaluate(implied, ctx));
}

/** Parses a GITHUB_OUTPUT file: `name=value` lines and `name<<DELIM` … `DELIM` blocks. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    const heredoc = line.match(/^([^=<]+)<<(.+)$/);
    if (heredoc) {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i]!);
      if (i >= lines.length) throw new Error(`GITHUB_OUTPUT: ${heredoc[1]} has no closing ${heredoc[2]}`);
      out[heredoc[1]!] = body.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`GITHUB_OUTPUT: malformed line "${line}"`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export async function runAction(
  actionDir: string,
  options: {
    inputs?: Record<string, string>;
    /** GITHUB_WORKSPACE and the working directory of every run step */
    workspace: string;
    env: NodeJS.ProcessEnv;
    timeoutMs?: number;
  },
): Promise<ActionRun> {
  const spec = readAction(join(actionDir, 'action.yml'));
  if (spec.runs?.using !== 'composite') throw new Error('action.yml: only composite actions are run here');
  const inputs: Record<string, string> = {};
  for (const [name, input] of Object.entries(spec.inputs ?? {})) inputs[name] = input.default ?? '';
  for (const [name, v] of Object.entries(options.inputs ?? {})) {
    if (!(name in inputs)) throw new Error(`action.yml declares no input "${name}"`);
    inputs[name] = v;
  }
  const files = mkdtempSync(join(tmpdir(), 'tollgate-action-'));
  removeAtExit(files);
  const ctx: Context = { inputs, steps: {}, failed: false };
  const steps: StepRecord[] = [];
  let summary = '';
  let log = '';
  for (const [index, step] of spec.runs.steps.entries()) {
    const id = step.id ?? `__step${index}`;
    const record: StepRecord = { id, ran: false, outputs: {}, outcome: 'skipped' };
    steps.push(record);
    if (!condition(step.if, ctx)) {
      ctx.steps[id] = { outputs: {} };
      continue;
    }
    record.ran = true;
    if (step.uses) {
      record.uses = step.uses;
      record.with = Object.fromEntries(
        Object.entries(step.with ?? {}).map(([k, v]) => [k, interpolate(String(v), ctx)]),
      );
      record.outcome = 'success';
      ctx.steps[id] = { outputs: {} };
      continue;
    }
    if (step.run === undefined) throw new Error(`action.yml: step ${id} has neither run nor uses`);
    if (step.shell !== 'bash') throw new Error(`action.yml: step ${id} must say shell: bash`);
    const outputFile = join(files, `${id}.output`);
    const summaryFile = join(files, `${id}.summary.md`);
    const scriptFile = join(files, `${id}.sh`);
    writeFileSync(outputFile, '');
    writeFileSync(summaryFile, '');
    writeFileSync(scriptFile, interpolate(step.run, ctx));
    const env: NodeJS.ProcessEnv = {
      ...options.env,
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, interpolate(String(v), ctx)])),
      GITHUB_ACTION_PATH: actionDir,
      GITHUB_WORKSPACE: options.workspace,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
    };
    const result = await run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', scriptFile], {
      cwd: options.workspace,
      env,
      timeoutMs: options.timeoutMs ?? 300_000,
    });
    record.result = result;
    record.outputs = parseOutputFile(readFileSync(outputFile, 'utf8'));
    record.outcome = result.code === 0 ? 'success' : 'failure';
    if (result.code !== 0) ctx.failed = true;
    ctx.steps[id] = { outputs: record.outputs };
    summary += readFileSync(summaryFile, 'utf8');
    log += result.output;
  }
  const outputs = Object.fromEntries(
    Object.entries(spec.outputs ?? {}).map(([name, o]) => [name, interpolate(o.value, ctx)]),
  );
  return {
    status: ctx.failed ? 'failure' : 'success',
    steps,
    step: (id) => {
      const found = steps.find((s) => s.id === id);
      if (!found) throw new Error(`action.yml has no step ${id}`);
      return found;
    },
    outputs,
    summary,
    log,
  };
}
