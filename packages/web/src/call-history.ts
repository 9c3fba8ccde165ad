/**
 * Recent and missed calls, kept in this browser's localStorage per signed-in name (several
 * people may share one browser). Entries are re-validated on every read, because storage is
 * user-editable and may hold anything.
 */

export type Direction = 'in' | 'out';

export type CallRecord = {
  readonly id: string;
  readonly peer: string;
  readonly direction: Direction;
  readonly video: boolean;
  /** When the call started ringing (ms since epoch). */
  readonly at: number;
  /** Time spent connected; 0 when the call never connected. */
  readonly durationMs: number;
  /** The end reason from the call, e.g. "hangup", "declined", "no_answer". */
  readonly outcome: string;
  /** An incoming call nobody answered. */
  readonly missed: boolean;
  /** The user has seen this missed call on the home screen. */
  readonly seen: boolean;
};

const MAX_RECORDS = 50;

function isRecord(value: unknown): value is CallRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    typeof r.peer === 'string' &&
    (r.direction === 'in' || r.direction === 'out') &&
    typeof r.video === 'boolean' &&
    typeof r.at === 'number' &&
    typeof r.durationMs === 'number' &&
    typeof r.outcome === 'string' &&
    typeof r.missed === 'boolean' &&
    typeof r.seen === 'boolean'
  );
}

export class CallHistory {
  private readonly key: string;
  private readonly listeners = new Set<() => void>();

  constructor(
    owner: string,
    private readonly storage: Storage | null = safeLocalStorage(),
  ) {
    this.key = `callwire:history:${owner.toLowerCase()}`;
  }

  /** Newest first. */
  list(): CallRecord[] {
    if (!this.storage) return [];
    try {
      const parsed: unknown = JSON.parse(this.storage.getItem(this.key) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter(isRecord) : [];
    } catch {
      return [];
    }
  }

  missed(): CallRecord[] {
    return this.list().filter((r) => r.missed);
  }

  unseenMissedCount(): number {
    return this.list().filter((r) => r.missed && !r.seen).length;
  }

  add(record: Omit<CallRecord, 'id' | 'seen'>): void {
    const full: CallRecord = { ...record, id: crypto.randomUUID(), seen: !record.missed };
    this.write([full, ...this.list()].slice(0, MAX_RECORDS));
  }

  markMissedSeen(): void {
    const records = this.list();
    if (!records.some((r) => r.missed && !r.seen)) return;
    this.write(records.map((r) => (r.missed ? { ...r, seen: true } : r)));
  }

  clear(): void {
    this.write([]);
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private write(records: CallRecord[]): void {
    try {
      this.storage?.setItem(this.key, JSON.stringify(records));
    } catch {
      // Quota exceeded or storage disabled: history is a convenience, calls go on without it.
    }
    for (const fn of [...this.listeners]) fn();
  }
}

function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // Disabled by the user or in a sandboxed frame.
  }
}

const LAST_NAME_KEY = 'callwire:last-name';

export function rememberName(name: string): void {
  try {
    window.localStorage.setItem(LAST_NAME_KEY, name);
  } catch {
    /* not essential */
  }
}

export function lastName(): string {
  try {
    return window.localStorage.getItem(LAST_NAME_KEY) ?? '';
  } catch {
    return '';
  }
}
