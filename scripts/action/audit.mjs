// The steps of the Tollgate GitHub Action (action.yml), as a script so they can be run and tested
// outside GitHub (test/e2e/action.test.ts runs action.yml's steps with this file).
//
//   node audit.mjs run      runs `yarn tollgate audit --format sarif` in the working directory, writes the
//                           SARIF log, a Markdown job summary ($GITHUB_STEP_SUMMARY), annotations and the
//                           step outputs ($GITHUB_OUTPUT). Exits 0 whenever a SARIF log was written (so
//                           it can be uploaded); 2 when the audit could not run at all or an input is bad.
//   node audit.mjs verdict  exits non-zero as `fail-on` says for the audit's exit code.
//
// Inputs come from the environment (TOLLGATE_*), set by action.yml from the action's inputs.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';

const FAIL_ON = ['violations', 'errors', 'never'];
const MAX_ROWS = 100;

class InputError extends Error {}

function boolInput(name, value) {
  if (value === undefined || value === '') return false;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new InputError(`input ${name}: "${value}" is not true or false`);
}

function failOnInput(value) {
  const v = value || 'violations';
  if (!FAIL_ON.includes(v)) throw new InputError(`input fail-on: "${v}" is not one of ${FAIL_ON.join(', ')}`);
  return v;
}

function readInputs(env) {
  const workspace = resolve(env.GITHUB_WORKSPACE || process.cwd());
  const project = resolve(workspace, env.TOLLGATE_WORKING_DIRECTORY || '.');
  return {
    workspace,
    project,
    base: (env.TOLLGATE_BASE ?? '').trim(),
    acceptRelaxations: boolInput('accept-relaxations', env.TOLLGATE_ACCEPT_RELAXATIONS),
    offline: boolInput('offline', env.TOLLGATE_OFFLINE),
    sarifFile: resolve(workspace, env.TOLLGATE_SARIF_FILE || 'tollgate.sarif'),
    failOn: failOnInput(env.TOLLGATE_FAIL_ON),
  };
}

/** Appends `name=value` outputs; multi-line values in GitHub's heredoc form. */
function setOutputs(env, outputs) {
  if (!env.GITHUB_OUTPUT) return;
  let text = '';
  for (const [name, raw] of Object.entries(outputs)) {
    const value = String(raw);
    if (value.includes('\n')) {
      const delimiter = `EOF_${Math.random().toString(36).slice(2)}`;
      text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    } else text += `${name}=${value}\n`;
  }
  appendFileSync(env.GITHUB_OUTPUT, text);
}

function writeSummary(env, markdown) {
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, markdown);
  else process.stdout.write(markdown);
}

/** Workflow-command data: %, CR and LF escaped, so a message can never start a command of its own. */
function escapeData(text) {
  return String(text).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(text) {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** Text in a Markdown table cell: package names and messages come from the lockfile and registries. */
function cell(text) {
  return String(text)
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_[\]<>|&#!~]/g, (c) => `&#${c.charCodeAt(0)};`);
}
function code(text) {
  return `<code>${cell(text)}</code>`;
}

function posixRelative(from, to) {
  return relative(from, to).split(sep).join('/');
}

function parseSarif(stdout) {
  try {
    const log = JSON.parse(stdout);
    if (log?.version !== '2.1.0' || !Array.isArray(log.runs?.[0]?.results)) return null;
    return log;
  } catch {
    return null;
  }
}

/** Interpreted results: package findings and policy-review changes. */
function findings(log) {
  const run = log.runs[0];
  const packages = [];
  const changes = [];
  for (const r of run.results) {
    const loc = r.locations?.[0]?.physicalLocation;
    const where = loc
      ? `${loc.artifactLocation?.uri ?? '?'}:${loc.region?.startLine ?? 1}${loc.region?.startColumn ? `:${loc.region.startColumn}` : ''}`
      : '';
    const text = r.message?.text ?? '';
    if (r.properties && 'relaxation' in r.properties) {
      changes.push({ code: r.ruleId, level: r.level, where, text, ...r.properties, location: loc });
    } else {
      const pkg = r.properties?.package;
      const id = pkg ? `${pkg.name}@${pkg.version}` : text.split(': ')[0];
      packages.push({
        code: r.ruleId,
        level: r.level,
        where,
        id,
        rule: r.properties?.rule,
        text: text.startsWith(`${id}: `) ? text.slice(id.length + 2) : text,
        location: loc,
      });
    }
  }
  return { packages, changes, invocation: run.invocations?.[0] };
}

function verdictLine(exitCode, counts) {
  if (exitCode === 0) return 'no package denied, nothing relaxed';
  if (exitCode >= 2) return 'configuration error, the audit could not run';
  const parts = [];
  if (counts?.denied) parts.push(`${counts.denied} package(s) denied`);
  if (counts?.relaxations) parts.push(`${counts.relaxations} relaxation(s) not acknowledged`);
  return parts.length ? parts.join(', ') : 'violations';
}

function renderSummary({ inputs, exitCode, log, hint, stderrTail }) {
  const rel = posixRelative(inputs.workspace, inputs.project) || '.';
  const icon = exitCode === 0 ? '✅' : '❌';
  if (!log) {
    let md = `## ${icon} Tollgate audit of ${code(rel)}: ${verdictLine(exitCode)}\n\n`;
    if (hint) md += `> ${cell(hint)}\n\n`;
    md += `The audit wrote no SARIF log (exit ${exitCode}). Its last output:\n\n\`\`\`\n${stderrTail.replace(/```/g, "'''")}\n\`\`\`\n`;
    return md;
  }
  const { packages, changes, invocation } = findings(log);
  const denied = new Set(packages.filter((p) => p.level === 'error').map((p) => p.id));
  const warned = new Set(packages.filter((p) => p.level !== 'error' && !denied.has(p.id)).map((p) => p.id));
  const relaxations = changes.filter((c) => c.relaxation);
  const open = relaxations.filter((c) => !c.acknowledged);
  const tightenings = changes.filter((c) => !c.relaxation);
  const error = invocation?.toolExecutionNotifications?.[0]?.message?.text;
  let md = `## ${icon} Tollgate audit of ${code(rel)}: ${verdictLine(exitCode, { denied: denied.size, relaxations: open.length })}\n\n`;
  if (error) {
    md += `**Configuration error:** ${cell(error)}\n\nExit code ${exitCode}; SARIF log ${code(posixRelative(inputs.workspace, inputs.sarifFile))} (with the error).\n`;
    return md;
  }
  md += `| denied | warned | relaxations${inputs.base ? ` against ${code(inputs.base)}` : ''} | tightenings |\n| --- | --- | --- | --- |\n`;
  md += `| ${denied.size} | ${warned.size} | ${inputs.base ? `${relaxations.length}${relaxations.length ? ` (${open.length} not acknowledged)` : ''}` : '—'} | ${inputs.base ? tightenings.length : '—'} |\n\n`;
  if (packages.length) {
    md += `### Packages\n\n| | package | violation | rule | where | why |\n| --- | --- | --- | --- | --- | --- |\n`;
    for (const p of packages.slice(0, MAX_ROWS))
      md += `| ${p.level === 'error' ? '❌ denied' : '⚠️ warned'} | ${code(p.id)} | ${code(p.code)} | ${p.rule ? code(p.rule) : ''} | ${code(p.where)} | ${cell(p.text)} |\n`;
    if (packages.length > MAX_ROWS) md += `\n… and ${packages.length - MAX_ROWS} more in the SARIF log.\n`;
    md += '\n';
  }
  if (changes.length) {
    md += `### Policy review against ${code(inputs.base)}\n\n| | change | where | what |\n| --- | --- | --- | --- |\n`;
    for (const c of changes.slice(0, MAX_ROWS))
      md += `| ${c.relaxation ? (c.acknowledged ? '⚠️ relaxation (acknowledged)' : '❌ relaxation') : '✅ tightening'} | ${code(c.code)} | ${code(c.where)} | ${cell(c.text)} |\n`;
    if (changes.length > MAX_ROWS) md += `\n… and ${changes.length - MAX_ROWS} more in the SARIF log.\n`;
    md += '\n';
  }
  md += `Exit code ${exitCode}; SARIF log ${code(posixRelative(inputs.workspace, inputs.sarifFile))}. `;
  md += `Explain a package with ${code('yarn tollgate explain <package>')}${inputs.base ? `, review the policy with ${code(`yarn tollgate policy diff --base ${inputs.base}`)}` : ''}.\n`;
  return md;
}

function annotate(log) {
  const { packages, changes } = findings(log);
  for (const f of [...packages, ...changes]) {
    const kind = f.level === 'error' ? 'error' : 'warning';
    const loc = f.location;
    const props = loc
      ? ` file=${escapeProperty(loc.artifactLocation?.uri ?? '')},line=${loc.region?.startLine ?? 1}${loc.region?.startColumn ? `,col=${loc.region.startColumn}` : ''},title=${escapeProperty(`Tollgate ${f.code}`)}`
      : '';
    process.stdout.write(`::${kind}${props}::${escapeData('id' in f ? `${f.id}: ${f.text}` : f.text)}\n`);
  }
}

/** Makes every location relative to the workspace (code scanning resolves them from the checkout). */
function rebase(log, inputs) {
  const prefix = posixRelative(inputs.workspace, inputs.project);
  if (!prefix) return log;
  for (const r of log.runs[0].results)
    for (const l of r.locations ?? []) {
      const a = l.physicalLocation?.artifactLocation;
      if (a?.uri && !/^[a-z]+:/i.test(a.uri) && !a.uri.startsWith('/')) a.uri = `${prefix}/${a.uri}`;
    }
  return log;
}

function runAudit(env) {
  const inputs = readInputs(env);
  const args = ['tollgate', 'audit', '--format', 'sarif'];
  if (inputs.offline) args.push('--offline');
  if (inputs.base) {
    args.push('--base', inputs.base);
    if (inputs.acceptRelaxations) args.push('--accept-relaxations');
  } else if (inputs.acceptRelaxations) {
    throw new InputError('input accept-relaxations: it only means something with a base ref (input base)');
  }
  console.log(`Tollgate: yarn ${args.join(' ')}   (in ${inputs.project})`);
  const res = spawnSync('yarn', args, {
    cwd: inputs.project,
    env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (res.error) {
    const why =
      res.error.code === 'ENOENT'
        ? 'yarn is not on PATH: run `corepack enable` (with actions/setup-node) before this action'
        : `yarn could not be started: ${res.error.message}`;
    writeSummary(env, renderSummary({ inputs, exitCode: 2, log: null, hint: why, stderrTail: '' }));
    console.log(`::error::${escapeData(why)}`);
    setOutputs(env, { 'exit-code': 2, denied: 0, relaxations: 0, 'sarif-file': '' });
    return 2;
  }
  process.stderr.write(res.stderr);
  const exitCode = res.status ?? 2;
  const log = parseSarif(res.stdout);
  const stderrTail = `${res.stderr}${log ? '' : res.stdout}`.trim().split('\n').slice(-20).join('\n');
  if (!log) {
    writeSummary(env, renderSummary({ inputs, exitCode, log: null, stderrTail }));
    console.log(
      `::error::${escapeData(`yarn tollgate audit exited ${exitCode} without a SARIF log; is the Tollgate plugin imported in ${inputs.project}/.yarnrc.yml?`)}`,
    );
    setOutputs(env, {
      'exit-code': exitCode === 0 ? 2 : exitCode,
      denied: 0,
      relaxations: 0,
      'sarif-file': '',
    });
    return 2;
  }
  rebase(log, inputs);
  mkdirSync(dirname(inputs.sarifFile), { recursive: true });
  writeFileSync(inputs.sarifFile, `${JSON.stringify(log, null, 2)}\n`);
  annotate(log);
  writeSummary(env, renderSummary({ inputs, exitCode, log }));
  const { packages, changes } = findings(log);
  const counts = {
    denied: new Set(packages.filter((p) => p.level === 'error').map((p) => p.id)).size,
    relaxations: changes.filter((c) => c.relaxation && !c.acknowledged).length,
  };
  setOutputs(env, { 'exit-code': exitCode, ...counts, 'sarif-file': inputs.sarifFile });
  console.log(`Tollgate: exit ${exitCode} (${verdictLine(exitCode, counts)}); SARIF log ${inputs.sarifFile}`);
  return 0;
}

function verdict(env) {
  const failOn = failOnInput(env.TOLLGATE_FAIL_ON);
  const exitCode = Number(env.TOLLGATE_EXIT_CODE);
  const counts = {
    denied: Number(env.TOLLGATE_DENIED || 0),
    relaxations: Number(env.TOLLGATE_RELAXATIONS || 0),
  };
  if (!Number.isInteger(exitCode))
    throw new InputError(`the audit's exit code "${env.TOLLGATE_EXIT_CODE}" is not a number`);
  const fails = failOn === 'never' ? false : failOn === 'errors' ? exitCode >= 2 : exitCode !== 0;
  if (fails) {
    console.log(
      `::error::${escapeData(`Tollgate audit: ${verdictLine(exitCode, counts)} (exit ${exitCode}, fail-on: ${failOn})`)}`,
    );
    return exitCode;
  }
  console.log(`Tollgate audit: exit ${exitCode}; not a failure with fail-on: ${failOn}`);
  return 0;
}

const mode = process.argv[2];
try {
  if (mode === 'run') process.exitCode = runAudit(process.env);
  else if (mode === 'verdict') process.exitCode = verdict(process.env);
  else throw new InputError(`usage: node ${process.argv[1]} run|verdict`);
} catch (err) {
  if (!(err instanceof InputError)) throw err;
  console.log(`::error::${escapeData(err.message)}`);
  if (mode === 'run') writeSummary(process.env, `## ❌ Tollgate audit: ${cell(err.message)}\n`);
  process.exitCode = 2;
}
