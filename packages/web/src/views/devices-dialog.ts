/**
 * "Your devices": the devices this account is signed in on now, this one marked, each with
 * "Rename" (inline: Enter saves, Escape cancels) and, for the others, "Sign out". It follows
 * the SDK's `devices` event while open, so a device that signs in, out or is renamed elsewhere
 * shows at once.
 *
 * A modal <dialog>, like the incoming call and the shortcut list: it keeps focus inside, Escape
 * closes it (except while a name is being edited: there Escape cancels the edit), and focus goes
 * back to the button that opened it. Rows are keyed by device id and updated in place, so a list
 * update that arrives mid-edit does not throw away what the person is typing.
 */
import type { CallwireClient, DeviceInfo } from '@callwire/client';
import { Disposer, h, replaceChildren, setShown } from '../dom.js';
import { icon } from '../icons.js';
import { errorCode, errorText } from '../messages.js';

/** The server's limit for a device label (PROTOCOL.md, "Devices"). */
const LABEL_MAX = 64;

export class DevicesDialog {
  private readonly dialog: HTMLDialogElement;
  private readonly list: HTMLUListElement;
  private readonly status: HTMLElement;
  private readonly error: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly rows = new Map<string, DeviceRow>();
  private readonly disposer = new Disposer();
  private readonly returnFocus: Element | null = document.activeElement;
  private closed = false;

  constructor(
    private readonly client: CallwireClient,
    private readonly onClosed: () => void,
  ) {
    this.heading = h('h2', { id: 'devices-title', tabindex: '-1' }, 'Your devices');
    this.list = h('ul', { class: 'device-list', 'aria-labelledby': 'devices-title' });
    this.status = h('p', { class: 'hint devices-status', role: 'status' });
    this.error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const close = h(
      'button',
      { type: 'button', class: 'button button-primary', onclick: () => this.close() },
      'Close',
    );
    this.dialog = h(
      'dialog',
      {
        class: 'devices-dialog',
        'aria-labelledby': 'devices-title',
        'aria-describedby': 'devices-lead',
      },
      h('div', { class: 'card-head' }, this.heading),
      h(
        'p',
        { id: 'devices-lead', class: 'hint' },
        'Where you are signed in now. A call to you rings on all of them.',
      ),
      this.error,
      this.list,
      this.status,
      h('div', { class: 'devices-actions' }, close),
    );
    this.disposer.listen(this.dialog, 'close', () => this.finish());
    this.disposer.add(client.on('devices', (devices) => this.render(devices)));
    this.render(client.devices);
    document.body.appendChild(this.dialog);
    this.dialog.showModal();
    this.heading.focus();
  }

  close(): void {
    if (!this.closed) this.dialog.close();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.disposer.dispose();
    this.dialog.remove();
    if (this.returnFocus instanceof HTMLElement && this.returnFocus.isConnected)
      this.returnFocus.focus();
    this.onClosed();
  }

  private render(devices: readonly DeviceInfo[]): void {
    if (this.closed) return;
    // This device first, then the others by when they signed in.
    const sorted = [...devices].sort(
      (a, b) => Number(b.current) - Number(a.current) || a.signedInAt.localeCompare(b.signedInAt),
    );
    const seen = new Set<string>();
    for (const device of sorted) {
      seen.add(device.id);
      let row = this.rows.get(device.id);
      if (!row) {
        row = new DeviceRow(device, {
          rename: (id, label) => this.rename(id, label),
          signOut: (info) => this.signOut(info),
        });
        this.rows.set(device.id, row);
      }
      row.update(device);
      this.list.append(row.root);
    }
    for (const [id, row] of this.rows) {
      if (seen.has(id)) continue;
      // Focus must not fall to <body> when the row that held it goes (a device signed out).
      const hadFocus = row.root.contains(document.activeElement);
      row.root.remove();
      this.rows.delete(id);
      if (hadFocus) this.heading.focus();
    }
  }

  private async rename(id: string, label: string): Promise<boolean> {
    this.showError(null);
    try {
      const devices = await this.client.renameDevice(id, label);
      this.render(devices);
      this.status.textContent = `Renamed to ${label}.`;
      return true;
    } catch (err) {
      this.showError(err instanceof TypeError ? 'Give the device a name.' : errorText(err));
      return false;
    }
  }

  private async signOut(device: DeviceInfo): Promise<void> {
    this.showError(null);
    try {
      await this.client.signOutDevice(device.id);
      this.status.textContent = `Signed out ${device.label}.`;
    } catch (err) {
      // Already gone (signed out meanwhile): the list update says so; nothing to report.
      if (errorCode(err) === 'not_in_call') return;
      this.showError(errorText(err));
    }
  }

  private showError(text: string | null): void {
    this.error.textContent = text ?? '';
    setShown(this.error, text !== null);
  }
}

type RowActions = {
  rename: (id: string, label: string) => Promise<boolean>;
  signOut: (device: DeviceInfo) => Promise<void>;
};

/** One device: its name (or the rename form), where it is, and its buttons. */
class DeviceRow {
  readonly root: HTMLLIElement;
  private device: DeviceInfo;
  private readonly nameSlot: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly renameButton: HTMLButtonElement;
  private readonly signOutButton: HTMLButtonElement;
  private form: HTMLFormElement | null = null;

  constructor(
    device: DeviceInfo,
    private readonly actions: RowActions,
  ) {
    this.device = device;
    this.nameSlot = h('div', { class: 'device-name' });
    this.detail = h('p', { class: 'hint device-detail' });
    this.renameButton = h(
      'button',
      { type: 'button', class: 'button button-ghost button-small', onclick: () => this.edit() },
      'Rename',
    );
    this.signOutButton = h(
      'button',
      {
        type: 'button',
        class: 'button button-secondary button-small device-sign-out',
        onclick: () => {
          this.signOutButton.disabled = true;
          void this.actions.signOut(this.device).finally(() => {
            this.signOutButton.disabled = false;
          });
        },
      },
      'Sign out',
    );
    this.root = h(
      'li',
      { class: 'device' },
      h('span', { class: 'device-icon', 'aria-hidden': 'true' }, icon('screen')),
      h('div', { class: 'device-text' }, this.nameSlot, this.detail),
      h('div', { class: 'device-buttons' }, this.renameButton, this.signOutButton),
    );
  }

  update(device: DeviceInfo): void {
    this.device = device;
    this.root.dataset.current = String(device.current);
    this.root.dataset.deviceId = device.id;
    // The visible word stays first in each name, as speech input expects ("click Rename").
    this.renameButton.setAttribute('aria-label', `Rename ${device.label}`);
    this.signOutButton.setAttribute('aria-label', `Sign out ${device.label}`);
    // Signing out this very device is the home screen's own "Sign out".
    setShown(this.signOutButton, !device.current);
    const parts = [`Signed in ${when(device.signedInAt)}`];
    if (device.call?.state === 'connected') parts.push(`in a call with ${device.call.peer}`);
    this.detail.textContent = parts.join(' · ');
    if (this.form === null) this.showName();
  }

  private showName(): void {
    replaceChildren(
      this.nameSlot,
      h('span', { class: 'device-label' }, this.device.label),
      this.device.current ? h('span', { class: 'tag' }, 'This device') : null,
    );
  }

  private edit(): void {
    if (this.form !== null) return;
    const input = h('input', {
      type: 'text',
      class: 'device-input',
      value: this.device.label,
      maxlength: LABEL_MAX,
      required: true,
      autocomplete: 'off',
      'aria-label': `New name for ${this.device.label}`,
    });
    const save = h(
      'button',
      { type: 'submit', class: 'button button-primary button-small' },
      'Save',
    );
    const cancel = h(
      'button',
      { type: 'button', class: 'button button-ghost button-small', onclick: () => this.endEdit() },
      'Cancel',
    );
    const form = h('form', { class: 'device-rename' }, input, save, cancel);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const label = input.value.trim();
      if (label === '' || label === this.device.label) {
        this.endEdit();
        return;
      }
      save.disabled = true;
      void this.actions.rename(this.device.id, label).then((ok) => {
        save.disabled = false;
        if (ok) this.endEdit();
        else input.focus();
      });
    });
    // Escape cancels the edit and must not also close the dialog around it.
    form.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      event.stopPropagation();
      this.endEdit();
    });
    this.form = form;
    setShown(this.renameButton, false);
    this.nameSlot.replaceChildren(form);
    input.focus();
    input.select();
  }

  private endEdit(): void {
    if (this.form === null) return;
    this.form = null;
    this.showName();
    setShown(this.renameButton, true);
    this.renameButton.focus();
  }
}

/** "at 14:05" today, "on 3 Mar" before. */
function when(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? `at ${date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`
    : `on ${date.toLocaleDateString([], { month: 'short', day: 'numeric' })}`;
}
