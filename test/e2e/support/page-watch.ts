import type { Page } from 'playwright-core';

export interface Frame {
  direction: 'sent' | 'received';
  /** The WebSocket's URL, as the page opened it. */
  url: string;
  /** Text frames as text; binary frames as `<binary N bytes>`. */
  payload: string;
  binary: boolean;
}

type FrameWaiter = { predicate: (frame: Frame) => boolean; resolve: (frame: Frame) => void };

/**
 * Records what a user (or the page's own code) would notice going wrong, and every WebSocket
 * frame the page sends and receives. A dialog is recorded and dismissed at once, because an
 * unanswered alert() blocks the page; the tutorial pages only alert on failures.
 */
export class PageWatch {
  readonly frames: Frame[] = [];
  readonly dialogs: string[] = [];
  readonly pageErrors: string[] = [];
  readonly console: string[] = [];
  readonly #waiters = new Set<FrameWaiter>();

  constructor(
    readonly label: string,
    page: Page,
  ) {
    page.on('dialog', (dialog) => {
      this.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss().catch(() => undefined);
    });
    page.on('pageerror', (error) => this.pageErrors.push(error.stack ?? error.message));
    page.on('console', (message) => this.console.push(`${message.type()}: ${message.text()}`));
    page.on('websocket', (socket) => {
      const url = socket.url();
      socket.on('framesent', ({ payload }) => this.#add('sent', url, payload));
      socket.on('framereceived', ({ payload }) => this.#add('received', url, payload));
    });
  }

  received(): Frame[] {
    return this.frames.filter((frame) => frame.direction === 'received');
  }

  /** Received text frames parsed as JSON; a frame that is not a JSON object is `undefined`. */
  receivedMessages(): Array<Record<string, unknown> | undefined> {
    return this.received().map((frame) => parseObject(frame.payload));
  }

  /** Resolves with the first frame (already seen or still to come) that matches. */
  waitForFrame(
    predicate: (frame: Frame) => boolean,
    what: string,
    timeoutMs = 15_000,
  ): Promise<Frame> {
    const seen = this.frames.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: FrameWaiter = {
        predicate,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.label}: no ${what} within ${timeoutMs} ms\n${this.report()}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Waits for a received JSON message whose fields include all of `fields`. */
  waitForMessage(
    fields: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>> {
    const matches = (frame: Frame): boolean => {
      const message = frame.direction === 'received' ? parseObject(frame.payload) : undefined;
      return (
        message !== undefined &&
        Object.entries(fields).every(([key, value]) => message[key] === value)
      );
    };
    return this.waitForFrame(matches, `message ${JSON.stringify(fields)}`, timeoutMs).then(
      (frame) => parseObject(frame.payload) ?? {},
    );
  }

  /** Everything recorded, for failure messages. */
  report(): string {
    return [
      `--- ${this.label}: dialogs ${JSON.stringify(this.dialogs)}, page errors ${JSON.stringify(this.pageErrors)}`,
      ...this.frames.map((f) => `${f.direction === 'sent' ? '->' : '<-'} ${truncate(f.payload)}`),
      ...this.console.map((line) => `console ${truncate(line)}`),
    ].join('\n');
  }

  #add(direction: Frame['direction'], url: string, payload: string | Buffer): void {
    const binary = typeof payload !== 'string';
    const frame: Frame = {
      direction,
      url,
      binary,
      payload: binary ? `<binary ${payload.length} bytes>` : payload,
    };
    this.frames.push(frame);
    for (const waiter of this.#waiters) {
      if (waiter.predicate(frame)) {
        this.#waiters.delete(waiter);
        waiter.resolve(frame);
      }
    }
  }
}

export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text;
}
