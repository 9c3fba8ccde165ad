/**
 * Call records: every call leaves one (parties, start/answer/end times, end reasons, the media
 * path a party reported), written when the call ends. Writing never delays or fails a call:
 * while the store is down, records wait in a bounded in-memory queue and are written when it
 * returns.
 *
 * A call the callee missed without seeing it ring (they were offline or busy) stays "pending"
 * until their next login, which lists it (`missed` in the login reply). That needs names to be
 * identities, so it happens only in password and jwt modes; in open mode anyone can take a
 * name, and whoever does must not learn who called its previous holder.
 */
import type { ErrorCode } from '@callwire/protocol';
import type { Logger } from 'pino';
import type { CallEnd } from '../calls/engine.js';
import type { AuthMode } from '../config.js';
import type { Stats } from '../metrics.js';
import {
  isStoreUnavailable,
  type CallPath,
  type CallRecord,
  type MissedRef,
  type Store,
} from '../stores/store.js';
import type { Party } from '../calls/model.js';

/** Records kept in memory while the store is down; the oldest go first beyond this. */
const QUEUE_MAX = 10_000;
const RETRY_MS = 2000;
const PRUNE_EVERY_MS = 3600_000;
/** Missed calls listed at login, newest first. */
export const MISSED_AT_LOGIN_MAX = 100;

export interface MissedCall {
  readonly callId: string;
  readonly from: string;
  /** ISO 8601 */
  readonly at: string;
  readonly video: boolean;
}

export interface RecorderOptions {
  readonly mode: AuthMode;
  readonly retentionMs: number;
}

export class Recorder {
  /** Paths reported during live calls, merged into the record when the call ends. */
  private readonly livePaths = new Map<string, CallPath>();
  private readonly queue: CallRecord[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly pruneTimer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly stats: Stats,
    private readonly options: RecorderOptions,
  ) {
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  /** Records waiting for the store. */
  get queued(): number {
    return this.queue.length;
  }

  /** The engine's `onCallEnded`. Never throws, never waits. */
  ended(end: CallEnd): void {
    const path = this.livePaths.get(end.callId) ?? null;
    this.livePaths.delete(end.callId);
    const identities = this.options.mode !== 'open';
    const record: CallRecord = {
      id: end.callId,
      callerKey: end.caller.key,
      callerName: end.caller.name,
      calleeKey: end.callee.key,
      calleeName: end.callee.name,
      startedAtMs: end.startedAtMs,
      answeredAtMs: end.answeredAtMs ?? null,
      endedAtMs: end.endedAtMs,
      callerReason: end.callerReason,
      calleeReason: end.calleeReason,
      missed: end.missed,
      missedPending: identities && end.missed && !end.calleeNotified,
      path,
      room: end.room ?? null,
      video: end.media.video !== false,
    };
    if (end.calleeOnline) return this.write(record);
    // The callee was not online. In open mode a name is nobody in particular: nothing to
    // keep. With accounts, only a real account's missed calls are worth keeping (calls to
    // made-up names would only fill the store).
    if (!identities) return;
    if (this.options.mode === 'jwt') return this.write(record);
    this.store.getUser(end.callee.key).then(
      (user) => {
        if (user !== undefined) this.write(record);
      },
      // Cannot tell: keep it; a record too many is cheaper than a missed call never shown.
      () => this.write(record),
    );
  }

  /** `{type:"report", callId, path}` from a party, during the call or after it ended. */
  report(session: Party, callId: string, path: CallPath, ref: string | undefined): void {
    if (session.call !== null && session.call.id === callId) {
      if (this.livePaths.get(callId) !== 'relay') this.livePaths.set(callId, path);
      return;
    }
    const i = this.queue.findIndex((r) => r.id === callId);
    const queued = this.queue[i];
    if (queued !== undefined) {
      if (queued.callerKey !== session.key && queued.calleeKey !== session.key)
        return this.refuse(session, 'not_in_call', callId, ref);
      if (queued.path !== 'relay') this.queue[i] = { ...queued, path };
      return;
    }
    this.store.setCallPath(callId, session.key, path).then(
      (ok) => {
        if (!ok) this.refuse(session, 'not_in_call', callId, ref);
      },
      (err: unknown) => {
        if (!isStoreUnavailable(err)) this.log.error({ err }, 'recording a call path failed');
        this.refuse(session, 'service_unavailable', callId, ref);
      },
    );
  }

  /** Missed calls to show `key` at login (not yet marked as seen). */
  async pendingMissed(key: string): Promise<{ calls: MissedCall[]; refs: MissedRef[] }> {
    if (this.options.mode === 'open') return { calls: [], refs: [] };
    const records = await this.store.pendingMissed(key, MISSED_AT_LOGIN_MAX);
    return {
      calls: records.map((r) => ({
        callId: r.id,
        from: r.callerName,
        at: new Date(r.endedAtMs).toISOString(),
        video: r.video,
      })),
      refs: records.map((r) => ({ id: r.id, endedAtMs: r.endedAtMs })),
    };
  }

  /** The login reply listing `refs` has been sent. */
  seen(key: string, refs: readonly MissedRef[]): void {
    if (refs.length === 0) return;
    this.store.markMissedSeen(key, refs).catch((err: unknown) => {
      // At worst they are listed once more at the next login.
      this.log.warn({ err: (err as Error).message }, 'could not mark missed calls as seen');
    });
  }

  /** Write what is still queued (best effort) and stop the timers. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pruneTimer);
    clearTimeout(this.retryTimer);
    await this.flushing;
    if (this.queue.length > 0) await this.flush();
    if (this.queue.length > 0)
      this.log.warn({ records: this.queue.length }, 'call records not written: store unavailable');
  }

  /** Delete expired records now (also runs hourly). */
  async prune(): Promise<void> {
    try {
      const gone = await this.store.pruneCalls(Date.now() - this.options.retentionMs);
      if (gone > 0) this.log.info({ records: gone }, 'expired call records deleted');
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'pruning call records postponed');
    }
  }

  private write(record: CallRecord): void {
    if (this.queue.length > 0 || this.flushing !== undefined) return this.enqueue(record);
    this.store.addCall(record).then(
      () => undefined,
      (err: unknown) => {
        if (!isStoreUnavailable(err))
          this.log.error({ err, callId: record.id }, 'writing a call record failed');
        this.enqueue(record);
      },
    );
  }

  private enqueue(record: CallRecord): void {
    this.queue.push(record);
    if (this.queue.length > QUEUE_MAX) {
      this.queue.shift();
      this.stats.error('service_unavailable');
      this.log.warn('call record queue full: dropped the oldest record');
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined || this.flushing !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.queue.length > 0) this.scheduleRetry();
      });
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      try {
        await this.store.addCall(this.queue[0]!);
      } catch (err) {
        if (isStoreUnavailable(err)) return;
        this.log.error({ err }, 'writing a queued call record failed; dropped');
      }
      this.queue.shift();
    }
    this.log.info('queued call records written');
  }

  private refuse(session: Party, code: ErrorCode, callId: string, ref: string | undefined): void {
    this.stats.error(code);
    session.send({ t: 'error', code, callId, ref });
  }
}
