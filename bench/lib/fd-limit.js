// Open-file limits for the benchmark's processes. A process holding N sockets needs N file
// descriptors plus its own (files, pipes, epoll, SQLite), and the default soft limit is often
// below what a soak asks for. Node cannot call setrlimit, so a process that needs more is started
// through `sh -c 'ulimit -n N && exec "$@"'`: the shell raises the limit and then replaces itself
// with node, so the pid the benchmark reads /proc for is still the node process.
import { readFileSync } from 'node:fs';

export const SHELL = '/bin/sh';
// Descriptors a process uses besides its sockets, with room to spare.
export const FD_OVERHEAD = 512;

/** The soft and hard "Max open files" of this process (Infinity for unlimited). */
export function openFileLimit() {
  const text = readFileSync('/proc/self/limits', 'utf8');
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) throw new Error('no "Max open files" in /proc/self/limits');
  const value = (s) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: value(m[1]), hard: value(m[2]) };
}

function systemMaximum() {
  try {
    return Number(readFileSync('/proc/sys/fs/nr_open', 'utf8').trim());
  } catch {
    return 1 << 20;
  }
}

/**
 * What a child that will hold `sockets` sockets must be started with: `null` when the current
 * soft limit is enough, else the limit to raise it to. Raising past the hard limit needs root
 * (CAP_SYS_RESOURCE); without it this throws with what to do instead.
 * @returns {{ limit: number | null, needed: number, soft: number, hard: number }}
 */
export function fdLimitFor(sockets) {
  const { soft, hard } = openFileLimit();
  const needed = sockets + FD_OVERHEAD;
  if (needed <= soft) return { limit: null, needed, soft, hard };
  // Round up so that the figure in the report reads as a chosen limit, not a computed one.
  const limit = Math.ceil(needed / 4096) * 4096;
  const root = process.getuid?.() === 0;
  if (limit > hard && !(root && limit <= systemMaximum())) {
    throw new Error(
      `a process holding ${sockets} sockets needs ${needed} open files; the limit is ${soft} ` +
        `(hard ${hard}) and only root may raise it past the hard limit: raise it ` +
        `(ulimit -n ${limit}) or spread the clients over more --workers`,
    );
  }
  return { limit, needed, soft, hard };
}

/** Arguments after SHELL that raise the limit to `limit` and then exec the rest of argv. */
export function shellArgs(limit) {
  return ['-c', 'ulimit -n "$0" && exec "$@"', String(limit)];
}

/** fork() options that start a node script the same way (its argv follows execArgv). */
export function withFdLimit(limit) {
  return { execPath: SHELL, execArgv: [...shellArgs(limit), process.execPath] };
}
