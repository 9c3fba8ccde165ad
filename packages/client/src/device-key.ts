/**
 * This device's DTLS key and what it remembers about other people's keys (issue 11).
 *
 * A browser makes a new DTLS certificate for every RTCPeerConnection unless it is given one, so
 * a fingerprint would say nothing about who is on the other end from one call to the next. The
 * SDK makes one ECDSA P-256 `RTCCertificate` per device instead, keeps it in IndexedDB (an
 * RTCCertificate is structured-cloneable; its private key never leaves the browser) and hands
 * it to every call. After two people compared their safety code, each device remembers the
 * other's fingerprint under (own account, peer account): trust on first use, as SSH and Signal.
 *
 * Without IndexedDB (some private modes, a Node test) the certificate lives as long as the page
 * and nothing is remembered: every call is then `unverified` until its code is compared, and a
 * comparison is good for that call only.
 */

const DB_NAME = 'callwire';
const DB_VERSION = 1;
const KEYS = 'device-keys';
const TRUST = 'trusted-keys';
const DEVICE_KEY = 'device';

/**
 * How long a device certificate is valid. Browsers refuse an expired certificate, and a new one
 * is a new fingerprint (peers see `key_changed`), so ask for a long life; Chromium clamps it to
 * what it allows (a year or more). A key within RENEW_BEFORE_MS of its end is replaced at start.
 */
const CERT_LIFETIME_MS = 365 * 24 * 3600 * 1000;
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

/**
 * Storage that does not answer in this time counts as missing: connecting must not hang on a
 * stuck IndexedDB (it can stall in some private modes).
 */
const STORAGE_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('IndexedDB did not answer')), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * This device's key as the app may show it.
 *
 * @example
 * ```ts
 * const key = client.deviceKey;
 * if (key && !key.persistent) note('This browser forgets its key: verified calls are not remembered.');
 * ```
 */
export interface DeviceKeyInfo {
  /** The certificate's SHA-256 fingerprint, as `sha-256 AB:CD:…` (what the peer sees). */
  fingerprint: string;
  /** False when the key could not be stored (no IndexedDB): it lasts as long as this page. */
  persistent: boolean;
}

type KeyRecord = { certificate: RTCCertificate };

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** Opens the database for one operation; a short-lived connection never blocks its deletion. */
async function withStore<T>(
  name: typeof KEYS | typeof TRUST,
  mode: IDBTransactionMode,
  body: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const open = indexedDB.open(DB_NAME, DB_VERSION);
  open.onupgradeneeded = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains(KEYS)) db.createObjectStore(KEYS);
    if (!db.objectStoreNames.contains(TRUST)) db.createObjectStore(TRUST);
  };
  const db = await request(open);
  try {
    const tx = db.transaction(name, mode);
    const result = await request(body(tx.objectStore(name)));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
    return result;
  } finally {
    db.close();
  }
}

function hasIndexedDb(): boolean {
  return typeof indexedDB !== 'undefined' && indexedDB !== null;
}

function canGenerate(): boolean {
  return (
    typeof RTCPeerConnection !== 'undefined' &&
    typeof RTCPeerConnection.generateCertificate === 'function'
  );
}

async function generate(): Promise<RTCCertificate> {
  // The `expires` member is part of the keygen algorithm dictionary (WebRTC 1.0, 4.10.2).
  const keygen = { name: 'ECDSA', namedCurve: 'P-256', expires: CERT_LIFETIME_MS };
  return RTCPeerConnection.generateCertificate(keygen);
}

/** `sha-256 AB:CD:…`, the one spelling of a fingerprint that is compared and stored. */
export function normalizeFingerprint(algorithm: string, value: string): string {
  return `${algorithm.trim().toLowerCase()} ${value.trim().toUpperCase()}`;
}

function fingerprintOf(cert: RTCCertificate): string {
  const fps = cert.getFingerprints();
  const fp = fps.find((f) => f.algorithm?.toLowerCase() === 'sha-256') ?? fps[0];
  return fp?.value !== undefined && fp.algorithm !== undefined
    ? normalizeFingerprint(fp.algorithm, fp.value)
    : '';
}

function trustKey(self: string, peer: string): string {
  // JSON keeps any character in a name from making two pairs collide.
  return JSON.stringify([self, peer]);
}

/** @internal The device key and the trust store, one per client. */
export class DeviceKeys {
  #certificate: RTCCertificate | null;
  #persistent: boolean;

  private constructor(certificate: RTCCertificate | null, persistent: boolean) {
    this.#certificate = certificate;
    this.#persistent = persistent;
  }

  /**
   * Load this device's key, or make (and store) one. Never rejects: without WebRTC there is no
   * key; without IndexedDB the key is this page's only.
   */
  static async load(): Promise<DeviceKeys> {
    if (!canGenerate()) return new DeviceKeys(null, false);
    if (hasIndexedDb()) {
      try {
        return await withTimeout(DeviceKeys.#loadStored(), STORAGE_TIMEOUT_MS);
      } catch {
        // Private modes and blocked storage: fall through to a key for this page.
      }
    }
    try {
      return new DeviceKeys(await generate(), false);
    } catch {
      return new DeviceKeys(null, false);
    }
  }

  static async #loadStored(): Promise<DeviceKeys> {
    const stored = (await withStore(KEYS, 'readonly', (s) => s.get(DEVICE_KEY))) as
      KeyRecord | undefined;
    const cert = stored?.certificate;
    if (cert !== undefined && cert.expires - Date.now() > RENEW_BEFORE_MS)
      return new DeviceKeys(cert, true);
    const fresh = await generate();
    await withStore(KEYS, 'readwrite', (s) =>
      s.put({ certificate: fresh } satisfies KeyRecord, DEVICE_KEY),
    );
    return new DeviceKeys(fresh, true);
  }

  get certificate(): RTCCertificate | null {
    return this.#certificate;
  }

  get info(): DeviceKeyInfo | undefined {
    const cert = this.#certificate;
    return cert === null
      ? undefined
      : { fingerprint: fingerprintOf(cert), persistent: this.#persistent };
  }

  /** Replace the key with a new one (stored when storage works). */
  async rotate(): Promise<DeviceKeyInfo> {
    if (!canGenerate()) throw new TypeError('this environment has no WebRTC certificates');
    const fresh = await generate();
    let persistent = false;
    if (hasIndexedDb()) {
      try {
        await withStore(KEYS, 'readwrite', (s) =>
          s.put({ certificate: fresh } satisfies KeyRecord, DEVICE_KEY),
        );
        persistent = true;
      } catch {
        persistent = false;
      }
    }
    this.#certificate = fresh;
    this.#persistent = persistent;
    return { fingerprint: fingerprintOf(fresh), persistent };
  }

  /** The fingerprints `self` has verified for `peer` (empty when none). */
  async trusted(self: string, peer: string): Promise<string[]> {
    if (!this.#persistent) return [];
    try {
      const value = (await withStore(TRUST, 'readonly', (s) =>
        s.get(trustKey(self, peer)),
      )) as unknown;
      return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    } catch {
      return [];
    }
  }

  /**
   * Add a verified fingerprint of `peer` to the set; resolves with whether it was stored. A
   * device without storage remembers nothing: its own key is new on every page anyway.
   */
  async remember(self: string, peer: string, fingerprint: string): Promise<boolean> {
    if (!this.#persistent) return false;
    try {
      const before = await this.trusted(self, peer);
      if (before.includes(fingerprint)) return true;
      await withStore(TRUST, 'readwrite', (s) =>
        s.put([...before, fingerprint], trustKey(self, peer)),
      );
      return true;
    } catch {
      return false;
    }
  }
}
