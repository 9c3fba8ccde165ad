/**
 * The home screen's note that another device of mine is in a call: "In a call with bob on
 * Chrome on Linux". It follows the SDK's `devices` event.
 *
 * Only a call that was answered counts: while a call rings, every free device of mine rings
 * with it (this one too), so "in a call" would be premature.
 */
import type { CallwireClient, DeviceInfo } from '@callwire/client';
import { Disposer, h, setShown } from '../dom.js';
import { icon } from '../icons.js';

export class OtherDeviceCall {
  /** A live region that is always there (a region shown later may not be announced). */
  readonly root: HTMLElement;
  private readonly card: HTMLElement;
  private readonly text: HTMLElement;
  /**
   * Where "Move it here" goes once the SDK can move a call between devices (issue 10, "Move
   * call here"). Empty until then: a button that cannot work would be worse than none.
   */
  readonly moveSlot: HTMLElement;
  private readonly disposer = new Disposer();

  constructor(client: CallwireClient) {
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
  }
}
