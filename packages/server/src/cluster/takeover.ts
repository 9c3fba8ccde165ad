/**
 * Resuming on another node while the session's own node is alive. Without sticky sessions a
 * client whose connection blipped may come back through any node. That node finds which node
 * holds the name and asks it to hand the session over (`takeover`, with the resume token's
 * hash as the credential); the holder parks the session as a drain would, just this one
 * (handoff.ts), answers `taken`, and closes the old socket if it was still open (4003). The
 * asking node then resumes it like any parked session (remote-resume.ts).
 */
import { CLOSE } from '@callwire/protocol';
import type { Logger } from 'pino';
import type { Hub } from '../hub.js';
import type { Bus } from './bus.js';
import { tokenHash, type Handoff } from './handoff.js';
import type { NodeMessage } from './wire.js';

/** How long the asking node waits for the holder. */
const ANSWER_MS = 3000;

export interface TakeoverDeps {
  readonly bus: Bus;
  readonly hub: Hub;
  readonly handoff: Handoff;
  readonly log: Logger;
}

export class Takeover {
  private readonly waiting = new Map<string, (ok: boolean) => void>();

  constructor(private readonly deps: TakeoverDeps) {}

  /** Ask `node` to hand over the session `key` whose client holds `token`. */
  ask(node: string, key: string, token: string): Promise<boolean> {
    const { bus } = this.deps;
    const id = `${node}\n${key}`;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        if (this.waiting.get(id) !== done) return;
        this.waiting.delete(id);
        clearTimeout(timer);
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), ANSWER_MS);
      this.waiting.set(id, done);
      const msg: NodeMessage = { op: 'takeover', from: bus.nodeId, key, token: tokenHash(token) };
      if (!bus.send(node, msg, () => done(false))) done(false);
    });
  }

  answered(msg: Extract<NodeMessage, { op: 'taken' }>): void {
    this.waiting.get(`${msg.from}\n${msg.key}`)?.(msg.ok);
  }

  /** Another node's client presents the token of one of this node's sessions. */
  async requested(msg: Extract<NodeMessage, { op: 'takeover' }>): Promise<void> {
    const { bus, hub, handoff, log } = this.deps;
    const answer = (ok: boolean) =>
      bus.send(msg.from, { op: 'taken', from: bus.nodeId, key: msg.key, ok });
    // Whichever of the person's devices here holds that token (one, with accounts, of several).
    const session = hub
      .devices(msg.key)
      .find((s) => s.resumeToken !== null && tokenHash(s.resumeToken) === msg.token);
    if (session === undefined) return void answer(false);
    const wasOpen = session.state === 'active';
    let ok = false;
    try {
      ok = (await handoff.run([session], { prefer: msg.from, keep: true })).stored.has(session);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'cluster: handing a session over failed');
    }
    // Its old connection, if still open, is replaced, as when a session resumes on one node.
    if (wasOpen && session.state === 'closed')
      session.close(CLOSE.sessionReplaced, 'session resumed elsewhere');
    answer(ok);
  }
}
