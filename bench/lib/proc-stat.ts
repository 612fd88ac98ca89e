/**
 * CPU time of processes from /proc/<pid>/stat, for the benchmarks' "where did the two
 * shared cores go" figures (Linux only; USER_HZ is 100 on every kernel we run).
 */
import { readdirSync, readFileSync } from 'node:fs';

const USER_HZ = 100;

/** The stat fields after the command name, which may itself hold spaces and ')'. */
function statFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a live process in seconds; undefined when it is gone or unknown. */
export function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined || !(pid > 0)) return undefined;
  try {
    const f = statFields(pid);
    // utime, stime: fields 14 and 15 of stat, i.e. 11 and 12 after the command name.
    return (Number(f[11]) + Number(f[12])) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** This process's own CPU seconds, and those of its children that have been waited for. */
export function ownCpuSeconds(): { self: number; children: number } {
  const f = statFields('self');
  return { self: (Number(f[11]) + Number(f[12])) / USER_HZ, children: (Number(f[13]) + Number(f[14])) / USER_HZ };
}

/** The first process whose command name (/proc/<pid>/comm) is `name`. */
export function pidByComm(name: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
