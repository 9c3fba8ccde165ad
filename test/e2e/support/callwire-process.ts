import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { callwireBin } from './paths.js';

/** One pino log record printed by the server (one JSON object per stdout line). */
export type LogRecord = Record<string, unknown> & { msg?: string };

export interface CallwireProcess {
  /** The port from the server's `"msg":"listening"` log line. */
  readonly port: number;
  /** Every log record so far, oldest first. */
  readonly logs: readonly LogRecord[];
  /** Stdout lines that were not JSON, and stderr lines: the server should print none. */
  readonly otherOutput: readonly string[];
  /** Resolves with the first record (already logged or still to come) that matches. */
  waitForLog(predicate: (record: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  /** SIGTERM, then SIGKILL if it has not exited in time; removes its data dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** CLI arguments, exactly as `npm start -- ARGS` would pass them. Default: none. */
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
// A crashed test worker must not leave servers behind holding ports in the namespace.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts the built CLI the way `npm start` does (`node packages/server/bin/callwire.js ARGS`),
 * from a fresh working directory so the default `./data` lands in a temporary folder, and
 * resolves once it logs that it is listening.
 */
export async function startCallwire(options: StartOptions = {}): Promise<CallwireProcess> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'callwire-e2e-'));
  const child = spawn(process.execPath, [callwireBin, ...(options.args ?? [])], {
    cwd: workDir,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);

  const logs: LogRecord[] = [];
  const otherOutput: string[] = [];
  const waiters = new Set<{
    predicate: (r: LogRecord) => boolean;
    resolve: (r: LogRecord) => void;
  }>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exitInfo: string | undefined;
  child.once('exit', (code, signal) => {
    running.delete(child);
    exitInfo = `exited with ${signal ?? code}`;
  });

  createInterface({ input: child.stdout }).on('line', (line) => {
    const record = parseRecord(line);
    if (record === undefined) {
      otherOutput.push(line);
      return;
    }
    logs.push(record);
    for (const waiter of waiters) {
      if (waiter.predicate(record)) {
        waiters.delete(waiter);
        waiter.resolve(record);
      }
    }
  });
  createInterface({ input: child.stderr }).on('line', (line) =>
    otherOutput.push(`stderr: ${line}`),
  );

  const describe = (): string =>
    [
      `callwire ${exitInfo ?? 'still running'}`,
      ...otherOutput,
      ...logs.map((r) => JSON.stringify(r)),
    ]
      .slice(0, 60)
      .join('\n');

  function waitForLog(
    predicate: (record: LogRecord) => boolean,
    timeoutMs = 10_000,
  ): Promise<LogRecord> {
    const seen = logs.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (record: LogRecord) => {
          clearTimeout(timer);
          resolve(record);
        },
      };
      const fail = (why: string): void => {
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${why} waiting for a log record\n${describe()}`));
      };
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      waiters.add(waiter);
      void exited.then(() => {
        if (waiters.has(waiter)) fail('server exited');
      });
    });
  }

  let stopping: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopping ??= (async () => {
      if (exitInfo === undefined) {
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs ?? 10_000);
        await exited;
        clearTimeout(killTimer);
      }
      rmSync(workDir, { recursive: true, force: true });
    })();
    return stopping;
  }

  try {
    const listening = await waitForLog(
      (r) => r.msg === 'listening',
      options.startTimeoutMs ?? 20_000,
    );
    if (typeof listening['port'] !== 'number') {
      throw new Error(`listening record has no numeric port: ${JSON.stringify(listening)}`);
    }
    return { port: listening['port'], logs, otherOutput, waitForLog, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function parseRecord(line: string): LogRecord | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as LogRecord)
      : undefined;
  } catch {
    return undefined;
  }
}
