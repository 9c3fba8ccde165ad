/**
 * The control bar of a call: microphone, camera, screen share, side panels and hang up. Toggle
 * buttons keep a fixed label and report their state with aria-pressed (panels: aria-expanded),
 * as screen readers expect.
 */
import type { Call } from '@callwire/client';
import { Disposer, h, setShown } from '../dom.js';
import { icon, type IconName } from '../icons.js';
import { errorText } from '../messages.js';

export type PanelName = 'chat' | 'stats' | 'devices';

type Toggle = { button: HTMLButtonElement; set: (on: boolean) => void };

function toggle(label: string, caption: string, on: IconName, off: IconName, attr: 'aria-pressed' | 'aria-expanded', onClick: () => void): Toggle {
  const button = h('button', { type: 'button', class: 'control', 'aria-label': label, [attr]: 'false', onclick: onClick });
  const set = (pressed: boolean): void => {
    button.setAttribute(attr, String(pressed));
    button.replaceChildren(icon(pressed ? on : off), h('span', { class: 'control-caption', 'aria-hidden': 'true' }, caption));
  };
  set(false);
  return { button, set };
}

export class CallControls {
  readonly root: HTMLElement;
  readonly error: HTMLElement;
  private readonly mic: Toggle;
  private readonly camera: Toggle;
  private readonly screen: Toggle;
  private readonly panels: Record<PanelName, Toggle>;
  private readonly hangup: HTMLButtonElement;
  private readonly unread: HTMLElement;
  private readonly disposer = new Disposer();
  private micMuted = false;
  private cameraOff = false;
  private sharing = false;
  private busy = false;

  constructor(
    private call: Call | null,
    onPanel: (panel: PanelName) => void,
    private readonly onHangup: () => void,
  ) {
    this.mic = toggle('Mute microphone', 'Mute', 'micOff', 'mic', 'aria-pressed', () => this.toggleMic());
    this.camera = toggle('Turn camera off', 'Camera', 'cameraOff', 'camera', 'aria-pressed', () => void this.toggleCamera());
    this.screen = toggle('Share screen', 'Share', 'screen', 'screen', 'aria-pressed', () => void this.toggleScreen());
    this.screen.button.classList.add('control-screen');
    this.panels = {
      chat: toggle('Chat', 'Chat', 'chat', 'chat', 'aria-expanded', () => onPanel('chat')),
      stats: toggle('Call statistics', 'Stats', 'stats', 'stats', 'aria-expanded', () => onPanel('stats')),
      devices: toggle('Devices', 'Devices', 'devices', 'devices', 'aria-expanded', () => onPanel('devices')),
    };
    this.unread = h('span', { class: 'dot', hidden: true, 'aria-hidden': 'true' });
    this.panels.chat.button.append(this.unread);
    this.hangup = h('button', { type: 'button', class: 'control control-hangup', 'aria-label': 'Cancel call', onclick: () => this.onHangup() }, icon('hangup'));
    this.error = h('p', { class: 'control-error', role: 'alert', hidden: true });
    if (typeof navigator.mediaDevices?.getDisplayMedia !== 'function') setShown(this.screen.button, false);
    this.root = h(
      'div',
      { class: 'control-bar', role: 'toolbar', 'aria-label': 'Call controls' },
      this.mic.button,
      this.camera.button,
      this.screen.button,
      this.panels.devices.button,
      this.panels.chat.button,
      this.panels.stats.button,
      this.hangup,
    );
    this.setEnabled(false);
  }

  /** Attach to the call once the SDK has it (an outgoing call starts before that). */
  attach(call: Call): void {
    this.call = call;
    this.sync();
    this.disposer.add(call.on('localStreamChanged', () => this.sync()));
  }

  dispose(): void {
    this.disposer.dispose();
  }

  setConnected(connected: boolean): void {
    this.hangup.setAttribute('aria-label', connected ? 'Hang up' : 'Cancel call');
    this.setEnabled(connected);
  }

  setPanel(open: PanelName | null): void {
    for (const [name, t] of Object.entries(this.panels) as Array<[PanelName, Toggle]>) t.set(name === open);
    if (open === 'chat') this.setUnread(false);
    this.panels.chat.button.append(this.unread);
  }

  setUnread(unread: boolean): void {
    setShown(this.unread, unread);
  }

  focusHangup(): void {
    this.hangup.focus();
  }

  private setEnabled(enabled: boolean): void {
    for (const t of [this.mic, this.camera, this.screen, this.panels.devices]) t.button.disabled = !enabled;
  }

  /** Read the real state back from the local stream (device switches and upgrades change it). */
  private sync(): void {
    const stream = this.call?.localStream ?? null;
    const audio = stream?.getAudioTracks()[0];
    const video = stream?.getVideoTracks()[0];
    this.micMuted = audio ? !audio.enabled : this.micMuted;
    this.cameraOff = !video || !video.enabled;
    this.mic.set(this.micMuted);
    this.camera.set(this.cameraOff && !this.sharing);
    this.screen.set(this.sharing);
  }

  private toggleMic(): void {
    if (!this.call) return;
    this.micMuted = !this.micMuted;
    this.call.setMicrophoneEnabled(!this.micMuted);
    this.mic.set(this.micMuted);
  }

  private async toggleCamera(): Promise<void> {
    const call = this.call;
    if (!call || this.busy) return;
    await this.run(async () => {
      const hasVideo = (call.localStream?.getVideoTracks().length ?? 0) > 0;
      // A voice call has no camera track yet: turning the camera on upgrades it to video.
      if (!hasVideo) await call.upgradeToVideo();
      else await call.setCameraEnabled(this.cameraOff);
      this.cameraOff = !this.cameraOff || !hasVideo ? !this.cameraOff : this.cameraOff;
    });
    this.sync();
  }

  private async toggleScreen(): Promise<void> {
    const call = this.call;
    if (!call || this.busy) return;
    await this.run(async () => {
      if (this.sharing) await call.stopScreenShare();
      else await call.startScreenShare();
      this.sharing = !this.sharing;
    });
    this.sync();
  }

  /** The browser ended the capture (its own "Stop sharing" bar); reflect it. */
  setSharing(sharing: boolean): void {
    this.sharing = sharing;
    this.sync();
  }

  private async run(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await action();
      setShown(this.error, false);
    } catch (err) {
      this.error.textContent = errorText(err);
      setShown(this.error, true);
    } finally {
      this.busy = false;
    }
  }
}
