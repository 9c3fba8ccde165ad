/** What the message handlers share: built once per server by app.ts. */
import type { IceServerValue } from '@callwire/protocol';
import type { Logger } from 'pino';
import type { Authenticator } from './auth/authenticator.js';
import type { SessionGuard } from './auth/session-guard.js';
import type { SessionTokens } from './auth/session-tokens.js';
import type { Engine } from './calls/engine.js';
import type { Config } from './config.js';
import type { Devices } from './devices.js';
import type { Directory } from './directory.js';
import type { PeerjsRelay } from './dialects/peerjs-relay.js';
import type { Hub } from './hub.js';
import type { Stats } from './metrics.js';
import type { Recorder } from './records/recorder.js';
import type { Resumer } from './resume.js';
import type { Store } from './stores/store.js';
import type { Session } from './ws/session.js';
import type { WriteBatch } from './ws/write-batch.js';

export interface Context {
  readonly config: Config;
  readonly hub: Hub;
  readonly engine: Engine;
  readonly stats: Stats;
  readonly log: Logger;
  /** Accounts and call records (SQLite or Redis). */
  readonly store: Store;
  /** Checks credentials at login, per --auth mode. */
  readonly auth: Authenticator;
  /** Closes sessions whose token expired or whose account went (4001). */
  readonly guard: SessionGuard;
  readonly records: Recorder;
  /** API tokens handed out in the native login reply. */
  readonly sessionTokens: SessionTokens;
  /** Sessions that may outlive their socket (native clients that asked to resume). */
  readonly resumer: Resumer;
  /**
   * Socket writes of this turn: sessions written to while a burst is handled (several frames in
   * one read, or a batch from another node) are corked until the end of the turn.
   */
  readonly writes: WriteBatch;
  /** Where users are: this node only, or a cluster over Redis (--redis). */
  readonly directory: Directory;
  /** Sessions whose login is being checked (credentials, or a name claimed across nodes). */
  readonly loggingIn: WeakSet<Session>;
  /** The PeerJS dialect (--peerjs on): its peers by id, and what waits for ids not connected. */
  readonly peerjs: PeerjsRelay | undefined;
  /** End a session for good with a close code (a device signed out, or signed in afresh). */
  endSession(session: Session, code: number, reason: string): void;
  /** Each account's devices: the pushed list, renames, sign-outs. */
  readonly devices: Devices;
  /** STUN/TURN servers for one user (TURN credentials are per user and time-limited). */
  iceServers(name: string): IceServerValue[];
}
