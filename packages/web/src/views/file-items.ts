/**
 * One row per file transfer in the chat transcript: name, size, a progress bar and cancel while
 * it runs; then "Sent", or a download link on the receiving side.
 */
import type { FileTransfer, IncomingFile } from '@callwire/client';
import { formatBytes, h, setShown } from '../dom.js';
import { icon } from '../icons.js';
import { errorCode } from '../messages.js';

type Row = {
  root: HTMLLIElement;
  progress: HTMLProgressElement;
  status: HTMLElement;
  cancel: HTMLButtonElement;
};

function row(direction: 'out' | 'in', who: string, name: string, size: number, onCancel: () => void): Row {
  const progress = h('progress', { max: Math.max(size, 1), value: 0, 'aria-label': `${direction === 'out' ? 'Sending' : 'Receiving'} ${name}` });
  const status = h('span', { class: 'file-status' }, direction === 'out' ? 'Sending…' : 'Receiving…');
  const cancel = h(
    'button',
    { type: 'button', class: 'button button-ghost button-small', 'aria-label': `Cancel transfer of ${name}`, onclick: onCancel },
    'Cancel',
  );
  const root = h(
    'li',
    { class: `message file-message message-${direction === 'out' ? 'me' : 'peer'}` },
    h('span', { class: 'message-author' }, who),
    h(
      'div',
      { class: 'file-card' },
      h('span', { class: 'file-icon' }, icon('attach')),
      h('span', { class: 'file-info' }, h('span', { class: 'file-name' }, name), h('span', { class: 'file-size' }, formatBytes(size))),
    ),
    progress,
    h('div', { class: 'file-footer' }, status, cancel),
  );
  return { root, progress, status, cancel };
}

function finish(r: Row, text: string, tone: 'ok' | 'warn'): void {
  r.status.textContent = text;
  r.status.className = `file-status file-status-${tone}`;
  setShown(r.cancel, false);
  setShown(r.progress, false);
}

function failureText(err: unknown): string {
  return errorCode(err) === 'transfer_cancelled' ? 'Cancelled' : 'Failed';
}

export function outgoingFileRow(transfer: FileTransfer, me: string): HTMLLIElement {
  const r = row('out', me, transfer.name, transfer.size, () => transfer.cancel());
  transfer.on('progress', (sent: number, total: number) => {
    r.progress.max = Math.max(total, 1);
    r.progress.value = sent;
  });
  transfer.done.then(
    () => finish(r, 'Sent', 'ok'),
    (err: unknown) => finish(r, failureText(err), 'warn'),
  );
  return r.root;
}

/** `track` is told each object URL made, so the view can revoke them when it goes away. */
export function incomingFileRow(file: IncomingFile, peer: string, track: (url: string) => void): HTMLLIElement {
  const r = row('in', peer, file.name, file.size, () => file.cancel());
  file.on('progress', (received: number, total: number) => {
    r.progress.max = Math.max(total, 1);
    r.progress.value = received;
  });
  file.done.then(
    (blob: Blob) => {
      finish(r, 'Received · SHA-256 verified', 'ok');
      const url = URL.createObjectURL(blob);
      track(url);
      const link = h('a', { class: 'button button-small download-link', href: url, download: file.name }, icon('download'), `Save ${file.name}`);
      r.root.appendChild(link);
    },
    (err: unknown) => finish(r, failureText(err), 'warn'),
  );
  return r.root;
}
