/**
 * One row per file transfer in the chat transcript: name and size always. An offered file waits
 * for the receiver's Accept or Decline (nothing is sent before); one above the receiver's limit
 * is refused without asking, and both sides say so. Once accepted: a progress bar and cancel
 * while it runs, then "Sent", or a download link on the receiving side.
 */
import type { FileTransfer, IncomingFile } from '@callwire/client';
import { formatBytes, h, setShown } from '../dom.js';
import { limitText } from '../file-limit.js';
import { icon } from '../icons.js';
import { errorCode } from '../messages.js';

type Row = {
  root: HTMLLIElement;
  progress: HTMLProgressElement;
  status: HTMLElement;
  cancel: HTMLButtonElement;
  footer: HTMLElement;
};

function row(direction: 'out' | 'in', who: string, name: string, size: number, status: string, onCancel: () => void): Row {
  const progress = h('progress', { max: Math.max(size, 1), value: 0, 'aria-label': `${direction === 'out' ? 'Sending' : 'Receiving'} ${name}`, hidden: true });
  const statusEl = h('span', { class: 'file-status' }, status);
  const cancel = h(
    'button',
    { type: 'button', class: 'button button-ghost button-small', 'aria-label': `Cancel transfer of ${name}`, onclick: onCancel },
    'Cancel',
  );
  const footer = h('div', { class: 'file-footer' }, statusEl, cancel);
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
    footer,
  );
  return { root, progress, status: statusEl, cancel, footer };
}

function running(r: Row, text: string): void {
  r.status.textContent = text;
  setShown(r.progress, true);
  setShown(r.cancel, true);
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

export function outgoingFileRow(transfer: FileTransfer, me: string, peer: string): HTMLLIElement {
  const r = row('out', me, transfer.name, transfer.size, `Waiting for ${peer} to accept…`, () => transfer.cancel());
  transfer.on('accepted', () => running(r, 'Sending…'));
  transfer.on('progress', (sent: number, total: number) => {
    r.progress.max = Math.max(total, 1);
    r.progress.value = sent;
  });
  transfer.done.then(
    () => finish(r, 'Sent', 'ok'),
    (err: unknown) => {
      const code = errorCode(err);
      if (code === 'transfer_declined') return finish(r, `${peer} declined this file.`, 'warn');
      if (code === 'transfer_too_large') {
        const limit = transfer.peerMaxBytes;
        return finish(r, `Not sent: ${peer} accepts files up to ${limit === undefined ? 'a smaller size' : limitText(limit)}.`, 'warn');
      }
      finish(r, failureText(err), 'warn');
    },
  );
  return r.root;
}

/** `track` is told each object URL made, so the view can revoke them when it goes away. */
export function incomingFileRow(file: IncomingFile, peer: string, track: (url: string) => void): HTMLLIElement {
  const r = row('in', peer, file.name, file.size, `${peer} wants to send you this file.`, () => file.cancel());
  setShown(r.cancel, false);
  if (file.tooLarge) {
    finish(r, `Refused: larger than the ${limitText(file.maxBytes)} you accept (a setting on the callwire home page).`, 'warn');
    return r.root;
  }
  const choice = h(
    'div',
    { class: 'file-choice' },
    h('button', { type: 'button', class: 'button button-primary button-small', 'aria-label': `Accept ${file.name}`, onclick: () => accept() }, 'Accept'),
    h('button', { type: 'button', class: 'button button-secondary button-small', 'aria-label': `Decline ${file.name}`, onclick: () => decline() }, 'Decline'),
  );
  r.footer.appendChild(choice);
  const accept = (): void => {
    choice.remove();
    try {
      file.accept();
      running(r, 'Receiving…');
    } catch {
      finish(r, 'Failed', 'warn');
    }
  };
  const decline = (): void => {
    choice.remove();
    file.decline();
  };
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
    (err: unknown) => {
      choice.remove();
      finish(r, errorCode(err) === 'transfer_declined' ? 'Declined' : failureText(err), 'warn');
    },
  );
  return r.root;
}
