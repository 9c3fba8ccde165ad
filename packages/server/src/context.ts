/** What the message handlers share: built once per server by app.ts. */
import type { IceServerValue } from '@callwire/protocol';
import type { Logger } from 'pino';
import type { Engine } from './calls/engine.js';
import type { Config } from './config.js';
import type { Hub } from './hub.js';
import type { Stats } from './metrics.js';

export interface Context {
  readonly config: Config;
  readonly hub: Hub;
  readonly engine: Engine;
  readonly stats: Stats;
  readonly log: Logger;
  /** STUN/TURN servers for one user (TURN credentials are per user and time-limited). */
  iceServers(name: string): IceServerValue[];
}
