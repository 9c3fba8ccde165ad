/**
 * The two ends of a file transfer as the app sees them: {@link FileTransfer} for a file being
 * sent, {@link IncomingFile} for one being received. The wire work happens in file-link.ts;
 * these objects hold progress, settle `done` exactly once, and carry the cancel button.
 */
import { Emitter, type Unsubscribe } from './emitter.js';
import { CallwireError, InvalidStateError } from './errors.js';

interface ProgressEvents {
  progress: (bytes: number, total: number) => void;
  accepted: () => void;
}

/**
 * A file being sent over a call (returned by `call.sendFile()`). The peer is asked first: no
 * byte goes until they accept (`accepted` fires, then `progress`). `done` resolves when the
 * peer has received every byte and confirmed the SHA-256; it rejects with `transfer_declined`
 * if they say no, `transfer_too_large` if the file is above the size they accept (their limit
 * is then in `peerMaxBytes`), `transfer_cancelled` if either side cancels, `transfer_failed`
 * if the peer's check fails, `call_ended` if the call ends first.
 *
 * @example
 * ```ts
 * const transfer = call.sendFile(input.files[0]);
 * transfer.on('accepted', () => (label.textContent = 'Sending…'));
 * transfer.on('progress', (sent, total) => (bar.value = sent / total));
 * cancelButton.onclick = () => transfer.cancel();
 * await transfer.done;
 * ```
 */
export interface FileTransfer {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  /** The largest file the peer accepts, once it refused this one as too large. */
  readonly peerMaxBytes: number | undefined;
  on(event: 'progress', listener: (sent: number, total: number) => void): Unsubscribe;
  on(event: 'accepted', listener: () => void): Unsubscribe;
  cancel(): void;
  readonly done: Promise<void>;
}

/**
 * A file the peer offers (the `fileOffered` event of a Call). Nothing is sent until you
 * `accept()`; `decline()` says no. `done` resolves with the file only when its size and SHA-256
 * match what the sender announced, and rejects on decline, cancel (either side), mismatch or the
 * end of the call. An offer above the client's limit (`maxFileBytes`, `setMaxFileBytes()`)
 * arrives already refused: `tooLarge` is true and `done` has rejected with `transfer_too_large`.
 *
 * @example
 * ```ts
 * call.on('fileOffered', async (file) => {
 *   if (file.tooLarge || !confirm(`Accept ${file.name}?`)) return file.decline();
 *   file.accept();
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
  /** Refused without asking: larger than `maxBytes`. */
  readonly tooLarge: boolean;
  /** The largest file this client accepted when the offer came. */
  readonly maxBytes: number;
  /** Whether `accept()` was called. */
  readonly accepted: boolean;
  on(event: 'progress', listener: (received: number, total: number) => void): Unsubscribe;
  /** Take the file: the sender starts sending. Throws InvalidStateError once settled. */
  accept(): void;
  /** Say no (the sender's transfer fails with `transfer_declined`). No-op once settled. */
  decline(): void;
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

  on(event: 'progress', listener: (bytes: number, total: number) => void): Unsubscribe;
  on(event: 'accepted', listener: () => void): Unsubscribe;
  on(event: keyof ProgressEvents, listener: ProgressEvents[keyof ProgressEvents]): Unsubscribe {
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
export class OutgoingFile extends TransferBase<void> implements FileTransfer {
  peerMaxBytes: number | undefined = undefined;

  /** @internal The peer took it: streaming starts. */
  markAccepted(): void {
    if (!this.settled) this.events.emit('accepted');
  }
}

/** The receiving end; see {@link IncomingFile}. */
export class ReceivingFile extends TransferBase<Blob> implements IncomingFile {
  readonly sha256: string;
  readonly mime: string;
  /** @internal */
  readonly chunks: Uint8Array[] = [];
  /** @internal */
  received = 0;
  readonly tooLarge: boolean;
  readonly maxBytes: number;
  #accepted = false;
  readonly #answer: (file: ReceivingFile, accept: boolean) => void;

  constructor(
    offer: { id: string; name: string; size: number; sha256: string; mime: string },
    maxBytes: number,
    onCancel: (transfer: TransferBase<Blob>) => void,
    answer: (file: ReceivingFile, accept: boolean) => void,
  ) {
    super(offer.id, offer.name, offer.size, onCancel);
    this.sha256 = offer.sha256;
    this.mime = offer.mime;
    this.maxBytes = maxBytes;
    this.tooLarge = offer.size > maxBytes;
    this.#answer = answer;
    if (this.tooLarge) this.fail(new CallwireError('transfer_too_large'));
  }

  get accepted(): boolean {
    return this.#accepted;
  }

  accept(): void {
    if (this.settled) throw new InvalidStateError('the file offer is no longer open');
    if (this.#accepted) return;
    this.#answer(this, true);
    this.#accepted = true;
  }

  decline(): void {
    if (this.settled || this.#accepted) return;
    this.#answer(this, false);
    this.fail(new CallwireError('transfer_declined'));
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
