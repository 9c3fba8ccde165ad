/**
 * The home screen's note that another device of mine is in a call: "In a call with bob on
 * Chrome on Linux", with "Move call here" (issue 10): one click and this device takes the call
 * on a new peer connection, the other device leaves it, and bob sees a moment of
 * "reconnecting". It follows the SDK's `devices` event.
 *
 * Only a call that was answered counts: while a call rings, every free device of mine rings
 * with it (this one too), so "in a call" would be premature; and only such a call can move.
 */
import type { CallwireClient, DeviceInfo } from '@callwire/client';
import { Disposer, h, setShown } from '../dom.js';
import { icon } from '../icons.js';

/** Move the call `callId` (with `peer`) from another of my devices to this one. */
export type MoveAction = (callId: string, peer: string) => void;

export class OtherDeviceCall {
  /** A live region that is always there (a region shown later may not be announced). */
  readonly root: HTMLElement;
  private readonly card: HTMLElement;
  private readonly text: HTMLElement;
  /** "Move call here", one per call on another device (there is one, nearly always). */
  readonly moveSlot: HTMLElement;
  private readonly disposer = new Disposer();

  constructor(
    client: CallwireClient,
    private readonly onMove?: MoveAction,
  ) {
    this.text = h('span', { class: 'other-call-text' });
    this.moveSlot = h('div', { class: 'other-call-actions' });
    this.card = h(
      'div',
      { class: 'card other-call', hidden: true },
      h('span', { class: 'other-call-icon', 'aria-hidden': 'true' }, icon('phone')),
      this.text,
      this.moveSlot,
    );
    this.root = h('div', { class: 'other-call-region', role: 'status' }, this.card);
    this.disposer.add(client.on('devices', (devices) => this.render(devices)));
    this.render(client.devices);
  }

  dispose(): void {
    this.disposer.dispose();
  }

  private render(devices: readonly DeviceInfo[]): void {
    const busy = devices.filter((d) => !d.current && d.call?.state === 'connected');
    setShown(this.card, busy.length > 0);
    this.text.textContent = busy
      .map((d) => `In a call with ${d.call?.peer ?? ''} on ${d.label}`)
      .join('. ');
    const onMove = this.onMove;
    // A device that is itself in a call cannot take another one (the server says invalid_state).
    const free = !devices.some((d) => d.current && d.call !== undefined);
    this.moveSlot.replaceChildren(
      ...(onMove === undefined || !free
        ? []
        : busy.map((d) => {
            const call = d.call;
            const label =
              busy.length > 1 ? `Move call with ${call?.peer ?? ''} here` : 'Move call here';
            return h(
              'button',
              {
                type: 'button',
                class: 'button button-primary button-small move-call',
                onclick: (event: Event) => {
                  if (call === undefined) return;
                  (event.currentTarget as HTMLButtonElement).disabled = true;
                  onMove(call.callId, call.peer);
                },
              },
              icon('phone'),
              label,
            );
          })),
    );
  }
}
