import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of V8's .cpuprofile format (written by `node --cpu-prof`) a summary needs. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function (or of everything attributed to one module), in milliseconds. */
export interface Cost {
  name: string;
  where: string;
  selfMs: number;
}

export interface ProfileSummary {
  file: string;
  durationMs: number;
  idleMs: number;
  gcMs: number;
  /** busy time (not idle): what the thread spent on the CPU */
  busyMs: number;
  byModule: Cost[];
  byFunction: Cost[];
  /**
   * Busy time by the innermost frame from an owned file (`owned`: the plugin bundle, the verifier
   * worker) on the stack: what self time hides, e.g. zlib or hashing that plugin code calls.
   */
  byOwnedCaller: Cost[];
}

/**
 * Source modules of an unminified esbuild bundle: esbuild marks where each module starts with a
 * `// path/to/module.ts` comment line, so a line number in the bundle names the module it came from.
 */
export function bundleModules(bundlePath: string): { line: number; module: string }[] {
  const starts: { line: number; module: string }[] = [];
  readFileSync(bundlePath, 'utf8')
    .split('\n')
    .forEach((text, line) => {
      const match = /^\s*\/\/ (\S+\.(?:ts|tsx|js|mjs|cjs|json))$/.exec(text);
      if (match) starts.push({ line, module: match[1]! });
    });
  return starts;
}

function moduleAt(starts: { line: number; module: string }[], line: number): string | undefined {
  let lo = 0;
  let hi = starts.length - 1;
  let found: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]!.line <= line) {
      found = starts[mid]!.module;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Where a frame's code lives, in words a reader can act on: a module of a bundle that has module
 * markers (`bundles`: path or base name -> markers), else Node's internals, else the file's base name.
 */
function locate(url: string, line: number, bundles: Map<string, { line: number; module: string }[]>): string {
  if (url === '') return '(native or VM)';
  if (url.startsWith('node:')) return 'node internals';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  // by path, or by base name: `yarn plugin import` runs a copy of the bundle from .yarn/plugins
  const markers = bundles.get(path) ?? bundles.get(basename(path));
  if (markers && markers.length > 0) return moduleAt(markers, line) ?? basename(path);
  return basename(path);
}

export function summarizeProfile(
  file: string,
  bundles: Map<string, { line: number; module: string }[]>,
  top = 25,
  owned: (url: string) => boolean = () => false,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n] as const));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const ownerCache = new Map<number, number | null>();
  const ownerOf = (id: number): number | null => {
    const cached = ownerCache.get(id);
    if (cached !== undefined) return cached;
    const node = byId.get(id)!;
    const up = parent.get(id);
    const owner = owned(node.callFrame.url) ? id : up === undefined ? null : ownerOf(up);
    ownerCache.set(id, owner);
    return owner;
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const functions = new Map<string, Cost>();
  const modules = new Map<string, Cost>();
  let idleUs = 0;
  let gcUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    if (functionName === '(garbage collector)') gcUs += us;
    const where = functionName.startsWith('(') ? functionName : locate(url, lineNumber, bundles);
    const name = functionName || '(anonymous)';
    const fnKey = `${name}\0${where}\0${url}:${lineNumber}`;
    const fn = functions.get(fnKey) ?? { name, where: `${where}:${lineNumber + 1}`, selfMs: 0 };
    fn.selfMs += us / 1000;
    functions.set(fnKey, fn);
    const mod = modules.get(where) ?? { name: where, where, selfMs: 0 };
    mod.selfMs += us / 1000;
    modules.set(where, mod);
  }
  const callers = new Map<number, Cost>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') continue;
    const ownerId = ownerOf(id);
    const owner = ownerId === null ? null : byId.get(ownerId)!;
    const key = ownerId ?? -1;
    const cost =
      callers.get(key) ??
      (owner
        ? {
            name: owner.callFrame.functionName || '(anonymous)',
            where: `${locate(owner.callFrame.url, owner.callFrame.lineNumber, bundles)}:${owner.callFrame.lineNumber + 1}`,
            selfMs: 0,
          }
        : { name: '(no owned frame on the stack)', where: '', selfMs: 0 });
    cost.selfMs += us / 1000;
    callers.set(key, cost);
  }
  const durationMs = (profile.endTime - profile.startTime) / 1000;
  const sorted = (costs: Iterable<Cost>) => [...costs].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  return {
    file,
    durationMs,
    idleMs: idleUs / 1000,
    gcMs: gcUs / 1000,
    busyMs: durationMs - idleUs / 1000,
    byModule: sorted(modules.values()),
    byFunction: sorted(functions.values()),
    byOwnedCaller: sorted(callers.values()),
  };
}

/** Every .cpuprofile in a folder (a process writes one per thread: main and each worker). */
export function profilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => join(dir, f));
}

export function formatProfile(summary: ProfileSummary, rows = 15): string {
  const ms = (v: number) => `${v.toFixed(0).padStart(7)} ms`;
  const pct = (v: number) => `${((100 * v) / Math.max(summary.busyMs, 1)).toFixed(1).padStart(5)}%`;
  const lines = [
    `${basename(summary.file)}: ${summary.durationMs.toFixed(0)} ms wall, ${summary.busyMs.toFixed(0)} ms busy ` +
      `(${summary.idleMs.toFixed(0)} ms idle, ${summary.gcMs.toFixed(0)} ms GC)`,
    '  self time by module (% of busy):',
    ...summary.byModule.slice(0, rows).map((c) => `    ${ms(c.selfMs)} ${pct(c.selfMs)}  ${c.name}`),
    '  self time by function:',
    ...summary.byFunction
      .slice(0, rows)
      .map((c) => `    ${ms(c.selfMs)} ${pct(c.selfMs)}  ${c.name}  (${c.where})`),
    '  busy time under the innermost Tollgate frame (plugin bundle or verifier worker):',
    ...summary.byOwnedCaller
      .slice(0, rows)
      .map((c) => `    ${ms(c.selfMs)} ${pct(c.selfMs)}  ${c.name}${c.where ? `  (${c.where})` : ''}`),
  ];
  return lines.join('\n');
}
