/**
 * The two ends of a file transfer as the app sees them: {@link FileTransfer} for a file being
 * sent, {@link IncomingFile} for one being received. The wire work happens in file-link.ts;
 * these objects hold progress, settle `done` exactly once, and carry the cancel button.
 */
import { Emitter, type Unsubscribe } from './emitter.js';
import { CallwireError } from './errors.js';

interface ProgressEvents {
  progress: (bytes: number, total: number) => void;
}

/**
 * A file being sent over a call (returned by `call.sendFile()`). `done` resolves when the peer
 * has received every byte and confirmed the SHA-256; it rejects with `transfer_cancelled` if
 * either side cancels, `transfer_failed` if the peer's check fails, `call_ended` if the call
 * ends first.
 *
 * @example
 * ```ts
 * const transfer = call.sendFile(input.files[0]);
 * transfer.on('progress', (sent, total) => (bar.value = sent / total));
 * cancelButton.onclick = () => transfer.cancel();
 * await transfer.done;
 * ```
 */
export interface FileTransfer {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  on(event: 'progress', listener: (sent: number, total: number) => void): Unsubscribe;
  cancel(): void;
  readonly done: Promise<void>;
}

/**
 * A file the peer is sending (the `fileOffered` event of a Call). Bytes start arriving at once;
 * `done` resolves with the file only when its size and SHA-256 match what the sender announced,
 * and rejects on cancel (either side), mismatch or the end of the call.
 *
 * @example
 * ```ts
 * call.on('fileOffered', async (file) => {
 *   file.on('progress', (received, total) => console.log(received, '/', total));
 *   const blob = await file.done;
 *   download(blob, file.name);
 * });
 * ```
 */
export interface IncomingFile {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  /** Lower-case hex SHA-256 the sender announced; `done` checks the bytes against it. */
  readonly sha256: string;
  /** MIME type the sender announced (may be empty). */
  readonly mime: string;
  on(event: 'progress', listener: (received: number, total: number) => void): Unsubscribe;
  cancel(): void;
  readonly done: Promise<Blob>;
}

/** Shared settle-once machinery of both ends. */
abstract class TransferBase<T> {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly done: Promise<T>;
  protected readonly events = new Emitter<ProgressEvents>();
  #resolve!: (value: T) => void;
  #reject!: (err: CallwireError) => void;
  #settled = false;
  readonly #onCancel: (transfer: TransferBase<T>) => void;

  constructor(
    id: string,
    name: string,
    size: number,
    onCancel: (transfer: TransferBase<T>) => void,
  ) {
    this.id = id;
    this.name = name;
    this.size = size;
    this.#onCancel = onCancel;
    this.done = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The app may never await `done` (a cancelled transfer it forgot about); that must not
    // surface as an unhandled rejection. Awaiting it still sees the rejection.
    this.done.catch(() => {});
  }

  get settled(): boolean {
    return this.#settled;
  }

  on(event: 'progress', listener: (bytes: number, total: number) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Give up on the transfer; the other side is told. No-op once settled. */
  cancel(): void {
    if (this.#settled) return;
    this.#onCancel(this);
    this.fail(new CallwireError('transfer_cancelled'));
  }

  /** @internal */
  progress(bytes: number): void {
    if (!this.#settled) this.events.emit('progress', bytes, this.size);
  }

  /** @internal */
  succeed(value: T): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(value);
    this.events.clear();
  }

  /** @internal */
  fail(err: CallwireError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(err);
    this.events.clear();
  }
}

/** The sending end; see {@link FileTransfer}. */
export class OutgoingFile extends TransferBase<void> implements FileTransfer {}

/** The receiving end; see {@link IncomingFile}. */
export class ReceivingFile extends TransferBase<Blob> implements IncomingFile {
  readonly sha256: string;
  readonly mime: string;
  /** @internal */
  readonly chunks: Uint8Array[] = [];
  /** @internal */
  received = 0;

  constructor(
    offer: { id: string; name: string; size: number; sha256: string; mime: string },
    onCancel: (transfer: TransferBase<Blob>) => void,
  ) {
    super(offer.id, offer.name, offer.size, onCancel);
    this.sha256 = offer.sha256;
    this.mime = offer.mime;
  }
}

/** Lower-case hex SHA-256 of the bytes, with WebCrypto (browsers in a secure context, Node). */
export async function sha256Hex(data: BufferSource): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) {
    throw new CallwireError(
      'transfer_failed',
      'crypto.subtle is missing (the page is not a secure context)',
    );
  }
  const digest = new Uint8Array(await subtle.digest('SHA-256', data));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
