import { readdirSync, readFileSync } from 'node:fs';

// Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on every mainstream kernel build.
const TICKS_PER_SECOND = 100;

function stat(pid: number): { ppid: number; cpuTicks: number; name: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the name is in parentheses and may itself hold spaces: the fields after it are fixed
    const close = text.lastIndexOf(')');
    const name = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    return { ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]), name };
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by each live descendant of this process (the local registry, the
 * tollgate-server), by pid. On a 2-core box the work a client causes in the servers competes with the
 * client itself, so a bench can report it next to the client's own profile. Empty where /proc is absent.
 */
export function descendantCpu(): Map<number, { name: string; seconds: number }> {
  const result = new Map<number, { name: string; seconds: number }>();
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return result;
  }
  const all = new Map(pids.map((pid) => [pid, stat(pid)] as const));
  const isDescendant = (pid: number): boolean => {
    for (let p = all.get(pid)?.ppid; p !== undefined && p > 1; p = all.get(p)?.ppid) {
      if (p === process.pid) return true;
    }
    return false;
  };
  for (const [pid, s] of all) {
    if (s && isDescendant(pid)) result.set(pid, { name: s.name, seconds: s.cpuTicks / TICKS_PER_SECOND });
  }
  return result;
}

/** CPU seconds each still-live descendant used between two descendantCpu() readings. */
export function cpuSince(
  before: Map<number, { name: string; seconds: number }>,
  after: Map<number, { name: string; seconds: number }>,
): { pid: number; name: string; seconds: number }[] {
  return [...after]
    .filter(([pid]) => before.has(pid))
    .map(([pid, a]) => ({ pid, name: a.name, seconds: a.seconds - before.get(pid)!.seconds }))
    .filter((c) => c.seconds > 0);
}

/**
 * CPU seconds, user and system, of every child this process has waited for so far: a child's own
 * threads included, its time counted once it has exited. The difference around one `yarn install`
 * is that Yarn process's CPU. Zeros where /proc is absent.
 */
export function exitedChildrenCpu(): { user: number; system: number } {
  try {
    const text = readFileSync('/proc/self/stat', 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[13]) / TICKS_PER_SECOND, system: Number(fields[14]) / TICKS_PER_SECOND };
  } catch {
    return { user: 0, system: 0 };
  }
}
