/**
 * File transfer over the call's `files` data channel, both directions.
 *
 * The sender hashes the file (SHA-256, WebCrypto) and announces it (`file-offer`). Nothing more
 * goes until the receiver answers: `file-decline` (the person said no, or the file is above the
 * size they accept, refused without asking them) ends it; `file-accept` starts the stream of
 * 16 KiB chunks, ended by `file-end`; the receiver reassembles, checks size and hash, and answers
 * `file-result`. Nobody's disk or memory fills with a file they did not agree to take. Backpressure: the sender stops queueing while the channel's `bufferedAmount` is
 * above a high-water mark and resumes on `bufferedamountlow`, so a large file never balloons
 * the browser's send buffer (which closes the channel when it overflows). The channel is
 * ordered and reliable, so the offer always precedes its chunks and `file-end` follows them.
 */
import { CallwireError } from './errors.js';
import {
  OutgoingFile,
  ReceivingFile,
  sha256Hex,
  type FileTransfer,
  type IncomingFile,
} from './file-transfer.js';
import {
  CHUNK_HEADER_BYTES,
  FILE_NAME_MAX_CHARS,
  fileDecoder,
  type FileMessage,
  type FileOffer,
} from './peer-messages.js';
import { assertNever, randomId } from './util.js';

export interface FileLinkOptions {
  /** Payload bytes per chunk. 16 KiB is what every browser's SCTP stack handles without splitting. */
  chunkBytes: number;
  /** Largest file accepted from the peer; larger offers are refused at once (`too_large`). */
  maxFileBytes: number;
}

const HIGH_WATER_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = 256 * 1024;

export class FileLink {
  readonly #channel: RTCDataChannel;
  readonly #options: FileLinkOptions;
  readonly #onOffer: (file: IncomingFile) => void;
  readonly #outgoing = new Map<string, OutgoingFile>();
  readonly #incoming = new Map<string, ReceivingFile>();
  readonly #incomingByNumber = new Map<number, ReceivingFile>();
  /** Sent offers waiting for the receiver's answer: resolves true to stream, false to stop. */
  readonly #answers = new Map<string, (go: boolean) => void>();
  #nextNumber = 0;
  #closed = false;

  constructor(
    channel: RTCDataChannel,
    options: FileLinkOptions,
    onOffer: (file: IncomingFile) => void,
  ) {
    this.#channel = channel;
    this.#options = options;
    this.#onOffer = onOffer;
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    channel.addEventListener('message', (event) => this.#onMessage(event.data));
    channel.addEventListener('close', () => this.close(new CallwireError('call_ended')));
  }

  get open(): boolean {
    return !this.#closed && this.#channel.readyState === 'open';
  }

  send(blob: Blob, name: string): FileTransfer {
    const transfer = new OutgoingFile(
      randomId(),
      name.slice(0, FILE_NAME_MAX_CHARS),
      blob.size,
      (t) => this.#cancel(t.id, this.#outgoing),
    );
    this.#outgoing.set(transfer.id, transfer);
    this.#stream(transfer, blob).catch((err: unknown) => {
      this.#outgoing.delete(transfer.id);
      transfer.fail(
        err instanceof CallwireError
          ? err
          : new CallwireError('transfer_failed', undefined, { cause: err }),
      );
    });
    return transfer;
  }

  /** Fail every transfer in flight (the call ended or the channel closed). Idempotent. */
  close(err: CallwireError): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#outgoing.values()) t.fail(err);
    this.#answer(...this.#answers.keys());
    for (const t of this.#incoming.values()) t.fail(err);
    this.#outgoing.clear();
    this.#incoming.clear();
    this.#incomingByNumber.clear();
  }

  async #stream(transfer: OutgoingFile, blob: Blob): Promise<void> {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const sha256 = await sha256Hex(bytes);
    if (transfer.settled) return;
    const n = this.#nextNumber++ >>> 0;
    this.#sendText({
      type: 'file-offer',
      id: transfer.id,
      n,
      name: transfer.name,
      mime: blob.type,
      size: bytes.byteLength,
      sha256,
    });
    if (!(await this.#accepted(transfer.id)) || transfer.settled) return;
    transfer.markAccepted();
    const chunk = this.#options.chunkBytes;
    for (let offset = 0; offset < bytes.byteLength; offset += chunk) {
      if (this.#channel.bufferedAmount > HIGH_WATER_BYTES) await this.#drained();
      if (transfer.settled) return;
      const payload = bytes.subarray(offset, Math.min(offset + chunk, bytes.byteLength));
      const frame = new Uint8Array(CHUNK_HEADER_BYTES + payload.byteLength);
      new DataView(frame.buffer).setUint32(0, n);
      frame.set(payload, CHUNK_HEADER_BYTES);
      this.#channel.send(frame);
      transfer.progress(offset + payload.byteLength);
    }
    if (bytes.byteLength === 0) transfer.progress(0);
    this.#sendText({ type: 'file-end', id: transfer.id });
    // `done` settles when the receiver's file-result (or a cancel) arrives.
  }

  /** Wait for the receiver's `file-accept` (true) or an end to the transfer (false). */
  #accepted(id: string): Promise<boolean> {
    return new Promise((resolve) => this.#answers.set(id, resolve));
  }

  /** Wake the senders of these transfers; `go` false when they ended before an accept. */
  #answer(...ids: string[]): void {
    for (const id of ids) this.#wake(id, false);
  }

  #wake(id: string, go: boolean): void {
    const resolve = this.#answers.get(id);
    this.#answers.delete(id);
    resolve?.(go);
  }

  #drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const channel = this.#channel;
      const cleanup = (): void => {
        channel.removeEventListener('bufferedamountlow', onLow);
        channel.removeEventListener('close', onClose);
      };
      const onLow = (): void => {
        cleanup();
        resolve();
      };
      const onClose = (): void => {
        cleanup();
        reject(new CallwireError('call_ended'));
      };
      channel.addEventListener('bufferedamountlow', onLow);
      channel.addEventListener('close', onClose);
    });
  }

  #sendText(msg: FileMessage): void {
    if (this.#channel.readyState !== 'open') throw new CallwireError('call_ended');
    this.#channel.send(JSON.stringify(msg));
  }

  #cancel(id: string, from: Map<string, OutgoingFile | ReceivingFile>): void {
    const t = from.get(id);
    from.delete(id);
    this.#wake(id, false);
    if (t instanceof ReceivingFile) this.#forgetIncoming(t);
    if (this.#channel.readyState === 'open') this.#sendText({ type: 'file-cancel', id });
  }

  #forgetIncoming(t: ReceivingFile): void {
    this.#incoming.delete(t.id);
    for (const [n, file] of this.#incomingByNumber)
      if (file === t) this.#incomingByNumber.delete(n);
  }

  #onMessage(data: unknown): void {
    if (this.#closed) return;
    if (data instanceof ArrayBuffer) {
      this.#onChunk(data);
      return;
    }
    if (typeof data !== 'string') return;
    const decoded = fileDecoder.decode(data);
    if (!decoded.ok) return; // A malformed peer message is dropped; nothing else happens.
    const msg = decoded.msg;
    switch (msg.type) {
      case 'file-offer':
        this.#onOfferMessage(msg);
        return;
      case 'file-end': {
        const t = this.#incoming.get(msg.id);
        if (t !== undefined) {
          this.#finish(t).catch((err: unknown) =>
            t.fail(new CallwireError('transfer_failed', undefined, { cause: err })),
          );
        }
        return;
      }
      case 'file-accept':
        // Only an offer still waiting starts: a repeated or late accept does nothing.
        this.#wake(msg.id, true);
        return;
      case 'file-decline': {
        const out = this.#outgoing.get(msg.id);
        this.#outgoing.delete(msg.id);
        this.#wake(msg.id, false);
        if (out === undefined) return;
        if (msg.reason === 'too_large') {
          out.peerMaxBytes = msg.maxBytes;
          out.fail(new CallwireError('transfer_too_large'));
        } else {
          out.fail(new CallwireError('transfer_declined'));
        }
        return;
      }
      case 'file-cancel': {
        const out = this.#outgoing.get(msg.id);
        this.#outgoing.delete(msg.id);
        this.#wake(msg.id, false);
        out?.fail(new CallwireError('transfer_cancelled', 'The peer cancelled the transfer.'));
        const inc = this.#incoming.get(msg.id);
        if (inc !== undefined) {
          this.#forgetIncoming(inc);
          inc.fail(new CallwireError('transfer_cancelled', 'The sender cancelled the transfer.'));
        }
        return;
      }
      case 'file-result': {
        const out = this.#outgoing.get(msg.id);
        this.#outgoing.delete(msg.id);
        if (msg.ok) out?.succeed();
        else out?.fail(new CallwireError('transfer_failed', 'The peer received a corrupt file.'));
        return;
      }
      default:
        assertNever(msg);
    }
  }

  #onOfferMessage(offer: FileOffer): void {
    if (this.#incoming.has(offer.id) || this.#incomingByNumber.has(offer.n)) {
      this.#sendText({ type: 'file-cancel', id: offer.id });
      return;
    }
    const maxBytes = this.#options.maxFileBytes;
    const file = new ReceivingFile(
      offer,
      maxBytes,
      (t) => this.#cancel(t.id, this.#incoming),
      (f, accept) => this.#reply(f, accept),
    );
    if (file.tooLarge) {
      // Refused without asking: the app is told (to say so), the sender learns the limit.
      if (this.#channel.readyState === 'open') {
        this.#sendText({ type: 'file-decline', id: offer.id, reason: 'too_large', maxBytes });
      }
      this.#onOffer(file);
      return;
    }
    this.#incoming.set(offer.id, file);
    this.#incomingByNumber.set(offer.n, file);
    this.#onOffer(file);
  }

  /** The person's answer to an offer. */
  #reply(file: ReceivingFile, accept: boolean): void {
    if (accept) {
      if (this.#channel.readyState !== 'open') throw new CallwireError('call_ended');
      this.#sendText({ type: 'file-accept', id: file.id });
      return;
    }
    this.#forgetIncoming(file);
    if (this.#channel.readyState === 'open') {
      this.#sendText({ type: 'file-decline', id: file.id, reason: 'declined' });
    }
  }

  #onChunk(data: ArrayBuffer): void {
    if (data.byteLength < CHUNK_HEADER_BYTES) return;
    const file = this.#incomingByNumber.get(new DataView(data).getUint32(0));
    // Chunks of a transfer we already cancelled may still be in flight; they are dropped, and so
    // are chunks nobody accepted (a peer that does not wait for the answer fills no memory).
    if (file === undefined || !file.accepted) return;
    const payload = new Uint8Array(data, CHUNK_HEADER_BYTES);
    file.received += payload.byteLength;
    if (file.received > file.size) {
      this.#forgetIncoming(file);
      this.#sendText({ type: 'file-result', id: file.id, ok: false });
      file.fail(new CallwireError('transfer_failed', 'More bytes arrived than announced.'));
      return;
    }
    file.chunks.push(payload);
    file.progress(file.received);
  }

  async #finish(file: ReceivingFile): Promise<void> {
    this.#forgetIncoming(file);
    const blob = new Blob(file.chunks as BlobPart[], { type: file.mime });
    file.chunks.length = 0;
    const ok =
      file.received === file.size && (await sha256Hex(await blob.arrayBuffer())) === file.sha256;
    if (this.#channel.readyState === 'open')
      this.#sendText({ type: 'file-result', id: file.id, ok });
    if (ok) file.succeed(blob);
    else file.fail(new CallwireError('transfer_failed', 'The file does not match its SHA-256.'));
  }
}
