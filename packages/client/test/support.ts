/**
 * Test support for the SDK's signaling tests: a real `callwire` server process on a free port
 * (the CLI as users run it), SDK clients connected to it over real sockets with `ws`, and a way
 * to await "the next event X" instead of sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import {
  connect,
  type Call,
  type CallEvents,
  type CallwireClient,
  type ClientEvents,
  type ConnectOptions,
  type IncomingCall,
  type IncomingCallEvents,
} from '../src/index.js';

const CLI = fileURLToPath(new URL('../../server/bin/callwire.js', import.meta.url));

export interface ServerProcess {
  port: number;
  url: string;
  /** Everything the server logged, one parsed JSON object per line. */
  logs: Record<string, unknown>[];
  /** Stop the process (SIGTERM drains; SIGKILL vanishes) and wait for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Start `callwire` on `port` (0 = any free port) and wait for its "listening" log line. */
export async function startServer(flags: string[] = [], port = 0): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'callwire-client-test-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, ...flags],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'listening' && typeof entry.port === 'number') resolve(entry.port);
    });
    child.once('exit', (code) => reject(new Error(`callwire exited (${code}) before listening`)));
  });
  const actualPort = await listening;
  return {
    port: actualPort,
    url: `ws://127.0.0.1:${actualPort}/`,
    logs,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Clients opened by a test, closed in afterEach. */
export class Clients {
  readonly #all: CallwireClient[] = [];

  async connect(
    url: string,
    name: string,
    options: Partial<ConnectOptions> = {},
  ): Promise<CallwireClient> {
    const client = await connect(url, { name, WebSocket, ...options });
    this.#all.push(client);
    return client;
  }

  closeAll(): void {
    for (const c of this.#all.splice(0)) c.close();
  }
}

type EventsOf<S> = S extends CallwireClient
  ? ClientEvents
  : S extends Call
    ? CallEvents
    : S extends IncomingCall
      ? IncomingCallEvents
      : never;
type ArgsOf<F> = F extends (...args: infer A) => void ? A : never;

/**
 * Resolve with the arguments of the next `event` (that satisfies `match`). Times out with a
 * clear message rather than hanging until the test timeout.
 */
export function next<
  S extends CallwireClient | Call | IncomingCall,
  K extends keyof EventsOf<S> & string,
>(
  source: S,
  event: K,
  match: (...args: ArgsOf<EventsOf<S>[K]>) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<ArgsOf<EventsOf<S>[K]>> {
  type Args = ArgsOf<EventsOf<S>[K]>;
  const on = source.on.bind(source) as unknown as (
    event: string,
    listener: (...args: Args) => void,
  ) => () => void;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for "${event}"`));
    }, timeoutMs);
    const off = on(event, (...args: Args) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    });
  });
}

type Frame = Record<string, unknown> & { type?: string };

/**
 * The signaling path of one SDK client, under the test's control: pass `control.WebSocket` to
 * connect(). Each socket the SDK opens is a real `ws` socket to the server; `cut()` terminates
 * it (as a dropped network does: no close frame) and refuses new connections until `restore()`.
 * Every frame the SDK sent and received is recorded, per socket.
 */
export class SocketControl {
  #open = true;
  readonly sockets: WebSocket[] = [];
  /** Frames received, one list per socket, in order. */
  readonly received: Frame[][] = [];
  /** Frames sent, across all sockets, in order. */
  readonly sent: Frame[] = [];

  get WebSocket(): NonNullable<ConnectOptions['WebSocket']> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the class below needs its control
    const control = this;
    return class ControlledWebSocket extends WebSocket {
      constructor(url: string) {
        // Port 1 refuses at once, like a server that cannot be reached.
        super(control.#open ? url : 'ws://127.0.0.1:1/');
        control.sockets.push(this);
        const log: Frame[] = [];
        control.received.push(log);
        this.on('message', (data) => log.push(JSON.parse((data as Buffer).toString()) as Frame));
      }

      override send(...args: Parameters<WebSocket['send']>): void {
        // The SDK sends text frames only.
        control.sent.push(JSON.parse(args[0] as string) as Frame);
        super.send(...args);
      }
    };
  }

  /** The socket the SDK uses now. */
  get current(): WebSocket {
    const socket = this.sockets.at(-1);
    if (socket === undefined) throw new Error('no socket yet');
    return socket;
  }

  /** Drop the connection without a close frame and refuse new ones. */
  cut(): void {
    this.#open = false;
    for (const s of this.sockets) s.terminate();
  }

  restore(): void {
    this.#open = true;
  }

  /** Send a raw protocol frame on the SDK's current socket (what a peer's browser would send). */
  inject(frame: Frame): void {
    this.current.send(JSON.stringify(frame));
  }

  /** A ping/pong round trip on the current socket: everything sent before it has been handled. */
  async roundTrip(): Promise<void> {
    const socket = this.current;
    const ref = `barrier-${Math.random().toString(36).slice(2)}`;
    const pong = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no pong')), 5000);
      const onMessage = (data: unknown): void => {
        const frame = JSON.parse((data as Buffer).toString()) as Frame;
        if (frame.type !== 'pong' || frame['ref'] !== ref) return;
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve();
      };
      socket.on('message', onMessage);
    });
    this.inject({ type: 'ping', ref });
    await pong;
  }
}

/** Retry every 50 ms: tests wait for events, not for backoff. */
export const quickRetry = { nextRetryDelayMs: (attempt: number) => (attempt < 400 ? 50 : null) };
