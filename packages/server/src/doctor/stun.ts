/**
 * The few STUN messages `callwire doctor` sends, encoded and decoded by hand (RFC 5389 STUN,
 * RFC 5766 TURN): a Binding request, and an Allocate request with long-term credentials. The
 * npm STUN packages are unmaintained or browser-oriented, and this subset is small: a header,
 * a handful of attributes, MESSAGE-INTEGRITY (HMAC-SHA1) and FINGERPRINT (CRC-32).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';

export const MAGIC_COOKIE = 0x2112a442;

export const METHOD = { binding: 0x001, allocate: 0x003, refresh: 0x004 } as const;

/** Message classes (RFC 5389 section 6): the two class bits spread over the type. */
const CLASS = { request: 0x0000, success: 0x0100, error: 0x0110 } as const;

export const ATTR = {
  mappedAddress: 0x0001,
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  xorPeerAddress: 0x0012,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
  fingerprint: 0x8028,
} as const;

export interface StunMessage {
  method: number;
  kind: 'request' | 'success' | 'error' | 'indication';
  transactionId: Buffer;
  attributes: Map<number, Buffer>;
}

export function newTransactionId(): Buffer {
  return randomBytes(12);
}

/**
 * Encode a request. With `key`, MESSAGE-INTEGRITY is added (over the message with its length
 * counting the integrity attribute, RFC 5389 section 15.4), then FINGERPRINT.
 */
export function encodeRequest(
  method: number,
  transactionId: Buffer,
  attributes: ReadonlyArray<readonly [number, Buffer]>,
  key?: Buffer,
): Buffer {
  const parts: Buffer[] = [];
  for (const [type, value] of attributes) parts.push(attribute(type, value));
  let body = Buffer.concat(parts);
  const header = (length: number): Buffer => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(method | CLASS.request, 0);
    h.writeUInt16BE(length, 2);
    h.writeUInt32BE(MAGIC_COOKIE, 4);
    transactionId.copy(h, 8);
    return h;
  };
  if (key !== undefined) {
    const hmac = createHmac('sha1', key)
      .update(Buffer.concat([header(body.length + 24), body]))
      .digest();
    body = Buffer.concat([body, attribute(ATTR.messageIntegrity, hmac)]);
  }
  const withoutFingerprint = Buffer.concat([header(body.length + 8), body]);
  const crc = (crc32(withoutFingerprint) ^ 0x5354554e) >>> 0;
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE(crc, 0);
  return Buffer.concat([withoutFingerprint, attribute(ATTR.fingerprint, fp)]);
}

function attribute(type: number, value: Buffer): Buffer {
  const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  padded.writeUInt16BE(type, 0);
  padded.writeUInt16BE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

/** How many bytes the message at the start of `data` has, or null if the header is incomplete. */
export function messageLength(data: Buffer): number | null {
  return data.length < 20 ? null : 20 + data.readUInt16BE(2);
}

/** Decode one message; null for anything that is not a well-formed STUN message. */
export function decode(data: Buffer): StunMessage | null {
  if (data.length < 20 || data.readUInt32BE(4) !== MAGIC_COOKIE) return null;
  const type = data.readUInt16BE(0);
  if ((type & 0xc000) !== 0) return null;
  const length = data.readUInt16BE(2);
  if (length % 4 !== 0 || 20 + length > data.length) return null;
  const cls = type & 0x0110;
  const kind =
    cls === CLASS.request
      ? 'request'
      : cls === CLASS.success
        ? 'success'
        : cls === CLASS.error
          ? 'error'
          : 'indication';
  const attributes = new Map<number, Buffer>();
  for (let at = 20; at + 4 <= 20 + length;) {
    const attrType = data.readUInt16BE(at);
    const attrLength = data.readUInt16BE(at + 2);
    if (at + 4 + attrLength > 20 + length) return null;
    if (!attributes.has(attrType))
      attributes.set(attrType, data.subarray(at + 4, at + 4 + attrLength));
    at += 4 + Math.ceil(attrLength / 4) * 4;
  }
  return {
    method: type & 0x3eef,
    kind,
    transactionId: data.subarray(8, 20),
    attributes,
  };
}

/** An XOR-MAPPED-ADDRESS style attribute as `host:port` (IPv6 in brackets). */
export function xorAddress(value: Buffer | undefined, transactionId: Buffer): string | null {
  if (value === undefined || value.length < 8) return null;
  const family = value[1];
  const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  if (family === 0x01) {
    const ip = (value.readUInt32BE(4) ^ MAGIC_COOKIE) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (ip >>> s) & 0xff).join('.')}:${port}`;
  }
  if (family === 0x02 && value.length >= 20) {
    const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), transactionId]);
    const words: string[] = [];
    for (let i = 0; i < 16; i += 2)
      words.push((((value[4 + i]! ^ mask[i]!) << 8) | (value[5 + i]! ^ mask[i + 1]!)).toString(16));
    return `[${words.join(':')}]:${port}`;
  }
  return null;
}

/** ERROR-CODE as a number (401, 438, ...), or null. */
export function errorCode(message: StunMessage): number | null {
  const value = message.attributes.get(ATTR.errorCode);
  if (value === undefined || value.length < 4) return null;
  return (value[2]! & 0x07) * 100 + value[3]!;
}

/** The long-term credential key: MD5(username ":" realm ":" password), RFC 5389 section 15.4. */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`).digest();
}

/** REQUESTED-TRANSPORT: UDP (17), the only one RFC 5766 defines. */
export const REQUESTED_UDP = Buffer.from([17, 0, 0, 0]);

export function isIpv4Host(host: string): boolean {
  return isIPv4(host);
}

let table: Uint32Array | undefined;
function crc32(data: Buffer): number {
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
