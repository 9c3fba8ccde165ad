/**
 * Messages between nodes over Redis pub/sub. Each node listens on its own channel `to:<id>`
 * and publishes everything for another node on one connection, so whatever this node sends to
 * one node arrives there in the order it was sent (Redis keeps per-connection order), and a
 * call's messages are never reordered. Nothing is re-sent after a failure, so nothing arrives
 * twice.
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
import { toDto, type NodeMessage } from './wire.js';

const OUTBOX_MAX = 10_000;

export class Bus {
  private outbox: Array<{ node: string; text: string }> = [];

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
    this.link.publish(K.to(node), JSON.stringify(msg)).then(
      (receivers) => {
        if (receivers === 0) onFail?.('nobody');
      },
      (err: unknown) => {
        this.log.debug({ err: (err as Error).message, to: node }, 'cluster: publish failed');
        onFail?.('error');
      },
    );
    return true;
  }

  /** Publish now, or (bounded) once the link is back: for notices that end things. */
  sendEventually(node: string, msg: NodeMessage): void {
    const text = JSON.stringify(msg);
    const keep = () => {
      if (this.outbox.length >= OUTBOX_MAX) this.outbox.shift();
      this.outbox.push({ node, text });
    };
    if (!this.link.up) return keep();
    this.link.publish(K.to(node), text).catch(keep);
  }

  /** The link is back: send what waited. */
  flush(): void {
    const pending = this.outbox;
    this.outbox = [];
    for (const { node, text } of pending) {
      this.link.publish(K.to(node), text).catch(() => undefined);
    }
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
