/**
 * Camera, microphone and (where the browser can route audio) speaker pickers. Device labels
 * are only readable once the page has camera/microphone permission, which a running call has.
 */
import type { Call } from '@callwire/client';
import { Disposer, h, replaceChildren, setShown } from '../dom.js';
import { errorText } from '../messages.js';

type SinkCapable = HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> };

export class DevicePicker {
  readonly root: HTMLElement;
  private readonly camera: HTMLSelectElement;
  private readonly mic: HTMLSelectElement;
  private readonly speaker: HTMLSelectElement;
  private readonly speakerField: HTMLElement;
  private readonly cameraField: HTMLElement;
  private readonly error: HTMLElement;
  private readonly disposer = new Disposer();

  constructor(
    private readonly call: Call,
    private readonly output: SinkCapable,
  ) {
    this.camera = h('select', { id: 'pick-camera' });
    this.mic = h('select', { id: 'pick-mic' });
    this.speaker = h('select', { id: 'pick-speaker' });
    this.error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.cameraField = h('div', { class: 'field' }, h('label', { for: 'pick-camera' }, 'Camera'), this.camera);
    this.speakerField = h('div', { class: 'field', hidden: true }, h('label', { for: 'pick-speaker' }, 'Speaker'), this.speaker);
    this.root = h(
      'section',
      { class: 'device-panel', 'aria-label': 'Devices' },
      h('div', { class: 'field' }, h('label', { for: 'pick-mic' }, 'Microphone'), this.mic),
      this.cameraField,
      this.speakerField,
      this.error,
    );
    this.disposer.listen(this.camera, 'change', () => void this.switchTo('videoinput', this.camera.value));
    this.disposer.listen(this.mic, 'change', () => void this.switchTo('audioinput', this.mic.value));
    this.disposer.listen(this.speaker, 'change', () => void this.setSpeaker(this.speaker.value));
    if (navigator.mediaDevices) this.disposer.listen(navigator.mediaDevices, 'devicechange', () => void this.refresh());
    this.disposer.add(call.on('localStreamChanged', () => void this.refresh()));
  }

  dispose(): void {
    this.disposer.dispose();
  }

  async refresh(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    const current = (kind: 'audio' | 'video'): string | undefined => {
      const track = kind === 'audio' ? this.call.localStream?.getAudioTracks()[0] : this.call.localStream?.getVideoTracks()[0];
      return track?.getSettings().deviceId;
    };
    this.fill(this.mic, devices.filter((d) => d.kind === 'audioinput'), current('audio'), 'Microphone');
    this.fill(this.camera, devices.filter((d) => d.kind === 'videoinput'), current('video'), 'Camera');
    setShown(this.cameraField, this.camera.options.length > 0);
    const outputs = devices.filter((d) => d.kind === 'audiooutput');
    const canRoute = typeof this.output.setSinkId === 'function' && outputs.length > 0;
    if (canRoute) this.fill(this.speaker, outputs, this.output.sinkId, 'Speaker');
    setShown(this.speakerField, canRoute);
  }

  private fill(select: HTMLSelectElement, devices: MediaDeviceInfo[], selected: string | undefined, noun: string): void {
    replaceChildren(
      select,
      ...devices.map((d, i) =>
        h('option', { value: d.deviceId, selected: d.deviceId === selected }, d.label || `${noun} ${i + 1}`),
      ),
    );
    select.disabled = devices.length <= 1;
  }

  private async switchTo(kind: 'audioinput' | 'videoinput', deviceId: string): Promise<void> {
    try {
      await this.call.switchDevice(kind, deviceId);
      setShown(this.error, false);
    } catch (err) {
      this.error.textContent = errorText(err);
      setShown(this.error, true);
    }
  }

  private async setSpeaker(deviceId: string): Promise<void> {
    try {
      await this.output.setSinkId?.(deviceId);
    } catch (err) {
      this.error.textContent = errorText(err);
      setShown(this.error, true);
    }
  }
}
