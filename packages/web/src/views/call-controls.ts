/**
 * The control bar of a call: microphone, camera, screen share, hold, side panels and hang up. Toggle
 * buttons keep a fixed label and report their state with aria-pressed (panels: aria-expanded),
 * as screen readers expect.
 */
import type { Call } from '@callwire/client';
import { Disposer, h, setShown } from '../dom.js';
import { icon, type IconName } from '../icons.js';
import { screenShareSupported } from '../environment.js';
import { errorText } from '../messages.js';

export type PanelName = 'chat' | 'stats' | 'devices';

type Toggle = { button: HTMLButtonElement; set: (on: boolean) => void };

/**
 * `captions` are the visible words under the icon for [not pressed, pressed]; the accessible
 * name stays `label` and the state is aria-pressed / aria-expanded.
 */
function toggle(
  label: string,
  captions: [string, string],
  on: IconName,
  off: IconName,
  attr: 'aria-pressed' | 'aria-expanded',
  onClick: () => void,
): Toggle {
  const button = h('button', { type: 'button', class: 'control', 'aria-label': label, [attr]: 'false', onclick: onClick });
  const set = (pressed: boolean): void => {
    button.setAttribute(attr, String(pressed));
    const dot = button.querySelector('.dot');
    button.replaceChildren(icon(pressed ? on : off), h('span', { class: 'control-caption', 'aria-hidden': 'true' }, captions[pressed ? 1 : 0]));
    if (dot) button.append(dot);
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
  private readonly hold: Toggle;
  private readonly panels: Record<PanelName, Toggle>;
  private readonly hangup: HTMLButtonElement;
  private readonly unread: HTMLElement;
  private readonly disposer = new Disposer();
  private micMuted = false;
  private cameraOn = false;
  private sharing = false;
  private busy = false;

  constructor(
    private call: Call | null,
    onPanel: (panel: PanelName) => void,
    private readonly onHangup: () => void,
  ) {
    this.mic = toggle('Mute microphone', ['Mute', 'Unmute'], 'micOff', 'mic', 'aria-pressed', () => this.toggleMic());
    this.camera = toggle('Turn camera off', ['Camera', 'Camera'], 'cameraOff', 'camera', 'aria-pressed', () => void this.toggleCamera());
    this.screen = toggle('Share screen', ['Share', 'Stop share'], 'screen', 'screen', 'aria-pressed', () => void this.toggleScreen());
    this.screen.button.classList.add('control-screen');
    // One caption in both states: a visible "Resume" outside the name "Hold" would be a word
    // that speech input cannot click (axe: label-content-name-mismatch). Pressed shows it held.
    this.hold = toggle('Hold', ['Hold', 'Hold'], 'play', 'pause', 'aria-pressed', () => this.toggleHold());
    this.panels = {
      chat: toggle('Chat', ['Chat', 'Chat'], 'chat', 'chat', 'aria-expanded', () => onPanel('chat')),
      // The name holds the visible caption, so speech input ("click Stats") finds it (axe).
      stats: toggle('Stats: call statistics', ['Stats', 'Stats'], 'stats', 'stats', 'aria-expanded', () => onPanel('stats')),
      devices: toggle('Devices', ['Devices', 'Devices'], 'devices', 'devices', 'aria-expanded', () => onPanel('devices')),
    };
    this.unread = h('span', { class: 'dot unread-count', hidden: true, 'aria-hidden': 'true' });
    this.panels.chat.button.append(this.unread);
    this.hangup = h('button', { type: 'button', class: 'control control-hangup', 'aria-label': 'Cancel call', onclick: () => this.onHangup() }, icon('hangup'));
    this.error = h('p', { class: 'control-error', role: 'alert', hidden: true });
    if (!screenShareSupported()) setShown(this.screen.button, false);
    this.root = h(
      'div',
      { class: 'control-bar', role: 'toolbar', 'aria-label': 'Call controls' },
      this.mic.button,
      this.camera.button,
      this.screen.button,
      this.hold.button,
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
    this.disposer.add(call.on('stateChanged', () => this.sync()));
    this.disposer.add(call.on('holdChanged', () => this.sync()));
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
    if (open === 'chat') this.setUnread(0);
  }

  /** How many messages and files arrived while the chat was closed (0 clears the badge). */
  setUnread(count: number): void {
    setShown(this.unread, count > 0);
    this.unread.textContent = count > 99 ? '99+' : String(count);
    // The badge is visual; screen readers hear the count in the button's name.
    const label = count === 0 ? 'Chat' : `Chat, ${count} unread ${count === 1 ? 'message' : 'messages'}`;
    this.panels.chat.button.setAttribute('aria-label', label);
  }

  /** A keyboard shortcut (see shortcuts.ts): the same as clicking the control, if it can be. */
  shortcut(key: string): boolean {
    const button =
      key === 'm' ? this.mic.button : key === 'v' ? this.camera.button : key === 'c' ? this.panels.chat.button : key === 'h' ? this.hangup : key === 'p' ? this.hold.button : null;
    if (button === null || button.disabled || button.hidden || this.root.hidden) return false;
    button.click();
    return true;
  }

  focusPanelButton(panel: PanelName): void {
    this.panels[panel].button.focus();
  }

  private setEnabled(enabled: boolean): void {
    for (const t of [this.mic, this.camera, this.screen, this.hold, this.panels.devices]) t.button.disabled = !enabled;
  }

  /**
   * Read the state back from the SDK: device switches, upgrades and the browser's own "Stop
   * sharing" button all change it without going through these buttons.
   */
  private sync(): void {
    const call = this.call;
    if (!call) return;
    const media = call.localMedia;
    const video = call.localStream?.getVideoTracks()[0];
    this.micMuted = !media.audio;
    this.sharing = media.screen;
    // While sharing, the video track is the screen; the camera state is what we last set.
    if (!media.screen) this.cameraOn = video !== undefined && video.readyState === 'live';
    this.mic.set(this.micMuted);
    this.camera.set(!this.cameraOn);
    this.screen.set(this.sharing);
    this.hold.set(call.onHold.local);
  }

  private toggleHold(): void {
    const call = this.call;
    if (!call || call.state === 'ended') return;
    try {
      if (call.onHold.local) call.resume();
      else call.hold();
      setShown(this.error, false);
    } catch (err) {
      // Not connected (yet, or any more): the button is disabled then, but a key may race it.
      this.error.textContent = errorText(err);
      setShown(this.error, true);
    }
    this.sync();
  }

  private toggleMic(): void {
    if (!this.call || this.call.state === 'ended') return;
    this.call.setMicrophoneEnabled(this.micMuted);
    this.sync();
  }

  private async toggleCamera(): Promise<void> {
    const call = this.call;
    if (!call || this.busy) return;
    const on = !this.cameraOn;
    // In a voice call, turning the camera on adds video to the call (the SDK renegotiates).
    const ok = await this.run(() => call.setCameraEnabled(on));
    if (ok) this.cameraOn = on;
    this.sync();
  }

  private async toggleScreen(): Promise<void> {
    const call = this.call;
    if (!call || this.busy) return;
    await this.run(() => (this.sharing ? call.stopScreenShare() : call.startScreenShare()));
    this.sync();
  }

  /** Run a media change; a failure (permission denied, no device) is shown, not thrown. */
  private async run(action: () => Promise<void>): Promise<boolean> {
    this.busy = true;
    try {
      await action();
      setShown(this.error, false);
      return true;
    } catch (err) {
      this.error.textContent = errorText(err);
      setShown(this.error, true);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
