/**
 * Messages between nodes over Redis pub/sub. Each node listens on its own channel `to:<id>`
 * and publishes everything for another node on one connection, so whatever this node sends to
 * one node arrives there in the order it was sent (Redis keeps per-connection order), and a
 * call's messages are never reordered. Nothing is re-sent after a failure, so nothing arrives
 * twice.
 *
 * What is sent to one node within one event-loop turn waits in that node's queue until the end
 * of the turn (setImmediate, after every socket read of the turn was handled) and leaves as one
 * PUBLISH: a batch (wire.ts) when there are several. Every send goes through the queue, those
 * that must not be lost too, so the queue is the one place where order is decided, and it is
 * the order of the calls to `send`. A message's fate is its PUBLISH's: no receiver, or an
 * error, reaches every message of the batch.
 *
 * While Redis is away nothing is buffered, with one bounded exception: notices that END
 * something (a call ended, a party disconnected) wait in a small outbox and go out when the
 * link is back, so that neither side keeps a call the other has dropped.
 */
import type { Logger } from 'pino';
import type { CallOutEvent } from '../calls/model.js';
import { TRAVEL } from '../calls/travel.js';
import { K } from './keys.js';
import type { RedisLink } from './redis-link.js';
import type { RemoteParty } from './remote-party.js';
import { BATCH_MAX_BYTES, BATCH_MAX_MESSAGES, batchText, toDto, type NodeMessage } from './wire.js';

const OUTBOX_MAX = 10_000;

/** A message waiting for the end of the turn, and what to do if its PUBLISH fails. */
interface Queued {
  readonly text: string;
  readonly bytes: number;
  readonly onFail: ((why: 'nobody' | 'error') => void) | undefined;
}

export class Bus {
  private outbox: Array<{ node: string; text: string }> = [];
  /** Per destination node, in the order sent; emptied at the end of the turn. */
  private queues = new Map<string, Queued[]>();
  private flushScheduled = false;

  constructor(
    private readonly link: RedisLink,
    readonly nodeId: string,
    private readonly log: Logger,
    /** An `incoming` could not reach the callee's node: the call cannot ring. */
    private readonly onRingFailed: (callee: RemoteParty) => void,
  ) {}

  /**
   * Publish to a node now. Returns false (and sends nothing) while the link is down;
   * `onFail` runs if the message could not be delivered after all (the connection dropped, or
   * nobody listens on that node's channel: the node is gone or its subscriber is reconnecting).
   */
  send(node: string, msg: NodeMessage, onFail?: (why: 'nobody' | 'error') => void): boolean {
    if (!this.link.up) return false;
    this.enqueue(node, JSON.stringify(msg), onFail);
    return true;
  }

  /** Publish now, or (bounded) once the link is back: for notices that end things. */
  sendEventually(node: string, msg: NodeMessage): void {
    const text = JSON.stringify(msg);
    if (!this.link.up) return this.keep(node, text);
    this.enqueue(node, text, (why) => {
      if (why === 'error') this.keep(node, text);
    });
  }

  /** The link is back: send what waited. */
  flush(): void {
    const pending = this.outbox;
    this.outbox = [];
    for (const { node, text } of pending) this.enqueue(node, text, undefined);
  }

  private keep(node: string, text: string): void {
    if (this.outbox.length >= OUTBOX_MAX) this.outbox.shift();
    this.outbox.push({ node, text });
  }

  private enqueue(node: string, text: string, onFail: Queued['onFail']): void {
    let queue = this.queues.get(node);
    if (queue === undefined) this.queues.set(node, (queue = []));
    queue.push({ text, bytes: Buffer.byteLength(text), onFail });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // setImmediate, not nextTick: the sends of every socket read in this turn go together.
      setImmediate(this.publishQueued);
    }
  }

  /** One PUBLISH per destination node (more only past a batch's limits), in queue order. */
  private readonly publishQueued = (): void => {
    this.flushScheduled = false;
    const queues = this.queues;
    this.queues = new Map();
    for (const [node, queue] of queues) {
      let start = 0;
      let bytes = 0;
      for (let i = 0; i < queue.length; i++) {
        // The envelope and commas: well under 200 bytes for a node id of at most 128.
        const next = bytes + queue[i]!.bytes + 1;
        if (i > start && (i - start >= BATCH_MAX_MESSAGES || next + 200 > BATCH_MAX_BYTES)) {
          this.publish(node, queue.slice(start, i));
          start = i;
          bytes = 0;
        }
        bytes += queue[i]!.bytes + 1;
      }
      this.publish(node, start === 0 ? queue : queue.slice(start));
    }
  };

  private publish(node: string, items: readonly Queued[]): void {
    // A lone message goes as it is (also one too large for any batch).
    const text =
      items.length === 1
        ? items[0]!.text
        : batchText(
            this.nodeId,
            items.map((item) => item.text),
          );
    const fail = (why: 'nobody' | 'error') => {
      for (const item of items) item.onFail?.(why);
    };
    this.link.publish(K.to(node), text).then(
      (receivers) => {
        if (receivers === 0) fail('nobody');
      },
      (err: unknown) => {
        this.log.debug({ err: (err as Error).message, to: node }, 'cluster: publish failed');
        fail('error');
      },
    );
  }

  /** The engine sent `event` to a party on another node: carry it there. */
  toRemote = (to: RemoteParty, event: CallOutEvent): void => {
    const dto = toDto(event);
    if (dto === undefined) return;
    const msg: NodeMessage = {
      op: 'event',
      from: this.nodeId,
      to: to.key,
      ...(to.dev === undefined ? {} : { dev: to.dev }),
      callId: dto.callId,
      e: dto.e,
    };
    const { effect } = TRAVEL[event.t];
    // Notices that end something must not be lost to a Redis blip.
    if (effect === 'ends') return this.sendEventually(to.node, msg);
    if (effect === 'rings') {
      const failed = () => setImmediate(() => this.onRingFailed(to));
      if (!this.send(to.node, msg, failed)) failed();
      return;
    }
    if ('from' in event) {
      // The sender learns its message did not get through (it may retry, or hang up).
      const callId = 'call' in event ? event.call.id : undefined;
      const unreachable = () =>
        event.from.send({ t: 'error', code: 'temporarily_unavailable', callId });
      if (!this.send(to.node, msg, unreachable)) unreachable();
      return;
    }
    this.send(to.node, msg);
  };
}
