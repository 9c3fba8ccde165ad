// Reads a process's CPU time and memory from /proc (Linux only). The server under test runs in
// its own process, so what these numbers count is the server's work alone, never the load
// generator's.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clockTicksPerSecond;

function ticksPerSecond() {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(
        execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(),
      );
    } catch {
      clockTicksPerSecond = 100; // USER_HZ on every mainstream Linux build.
    }
    if (!Number.isFinite(clockTicksPerSecond) || clockTicksPerSecond <= 0)
      clockTicksPerSecond = 100;
  }
  return clockTicksPerSecond;
}

/**
 * CPU time of every thread of `pid` (user + system) in microseconds, from /proc/<pid>/stat
 * (fields 14 and 15, utime and stime, in clock ticks: 10 ms resolution).
 */
export function statCpuUs(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / ticksPerSecond();
}

/**
 * The same quantity with nanosecond resolution: the on-CPU time the scheduler accounted to each
 * thread (/proc/<pid>/task/<tid>/schedstat, first field), summed. Node's threads (main, V8 GC
 * helpers, libuv pool) live as long as the process, so no exited thread's time goes missing.
 * Returns null where the kernel does not provide schedstat.
 */
export function schedCpuUs(pid) {
  let totalNs = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        totalNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended between readdir and read: its time is gone either way.
      }
    }
  } catch {
    return null;
  }
  return Number.isFinite(totalNs) ? totalNs / 1e3 : null;
}

/**
 * How long the threads of `pid` were ready to run but waiting for a CPU (µs): the second field
 * of each thread's schedstat. On a shared machine this tells a server starved of CPU (its
 * latency is the machine's) from one that is slow by itself. Null where schedstat is missing.
 */
export function schedWaitUs(pid) {
  let totalNs = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        totalNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
      } catch {
        // The thread ended between readdir and read.
      }
    }
  } catch {
    return null;
  }
  return Number.isFinite(totalNs) ? totalNs / 1e3 : null;
}

/** Both CPU readings at once, so a phase's delta uses the same instants for both. */
export function cpuSample(pid) {
  return { statUs: statCpuUs(pid), schedUs: schedCpuUs(pid) };
}

/** Resident set size of `pid` in bytes (VmRSS in /proc/<pid>/status). */
export function rssBytes(pid) {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** The TCP ports `pid` listens on over IPv4 (its socket inodes matched in /proc/net/tcp). */
export function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // fd closed meanwhile.
    }
  }
  const ports = [];
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    // cols: sl local_address rem_address st ... inode(9)
    if (cols.length > 9 && cols[3] === '0A' && inodes.has(cols[9])) {
      ports.push(parseInt(cols[1].split(':')[1], 16));
    }
  }
  return ports;
}

/**
 * Machine-wide busy CPU time in µs from /proc/stat (user, nice, system, irq, softirq, steal:
 * everything but idle and iowait). Subtracting the benchmark's own processes from its change
 * over a run tells how much other work shared the machine meanwhile.
 */
export function machineBusyUs() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1e6) / ticksPerSecond();
}
