/** Pick the store the configuration asks for (no I/O until `open()`). */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { RedisStore } from './redis-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

export const DAY_MS = 24 * 3600 * 1000;

export function createStore(
  config: Pick<Config, 'store' | 'redis' | 'dataDir' | 'recordsRetentionDays'>,
  log?: Logger,
): Store {
  if (config.store === 'redis') {
    if (config.redis === undefined) throw new TypeError('--store redis needs --redis');
    return new RedisStore({
      url: config.redis,
      retentionMs: config.recordsRetentionDays * DAY_MS,
      log,
    });
  }
  return new SqliteStore(config.dataDir);
}
