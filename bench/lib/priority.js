// Optional scheduling priority for the benchmark's own processes (--priority=N), so that other
// work on a shared machine disturbs the measurement less. It never touches other processes.
import { readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Sets the nice value of each pid (the server under test and the load generators). */
export function prioritize(pids, nice) {
  for (const pid of pids) setPriority(pid, nice);
}

/**
 * With autogroup scheduling (common on Linux) a nice value only counts inside its own session's
 * group; the group itself competes with other sessions at its own nice value. This sets the
 * group of this process (which the servers and generators it starts inherit) and returns a
 * function that restores the previous value. A no-op where autogroups do not exist.
 */
export function prioritizeSessionGroup(nice) {
  let previous;
  try {
    previous = /nice (-?\d+)/.exec(readFileSync('/proc/self/autogroup', 'utf8'))?.[1];
    writeFileSync('/proc/self/autogroup', String(nice));
  } catch {
    return () => {};
  }
  return () => {
    try {
      if (previous !== undefined) writeFileSync('/proc/self/autogroup', previous);
    } catch {
      // The group is gone with its session; nothing to restore.
    }
  };
}
