/**
 * Before joining a meeting by link: the name others will see (typed by a guest, or the signed-in
 * account's), a preview of the camera, a level meter that shows the microphone is heard, camera
 * and microphone pickers, camera and microphone on/off, and Join. Nothing is sent anywhere until
 * Join: the preview is local. The captured stream is handed to the call on Join (so the camera
 * does not restart), and stopped here if the person leaves without joining.
 */
import { Disposer, h, setShown } from '../dom.js';
import { audioConstraints, videoConstraints } from '../environment.js';
import { icon } from '../icons.js';
import { errorText } from '../messages.js';

/**
 * `marked`: a guest on a server with accounts, whom others see as "Name (guest)"; `signIn`, where
 * to go instead to join with an account (password servers).
 */
export type PreJoinIdentity =
  | { kind: 'guest'; name: string; marked?: boolean; signIn?: string }
  | { kind: 'account'; name: string };

export type PreJoinChoice = {
  name: string;
  /** What the preview captured (camera track only when the camera is on); null if nothing could be. */
  stream: MediaStream | null;
  micOn: boolean;
  cameraOn: boolean;
};

export class PreJoinView {
  readonly root: HTMLElement;
  private readonly disposer = new Disposer();
  private readonly preview: HTMLVideoElement;
  private readonly cameraOffNote: HTMLElement;
  private readonly meter: HTMLMeterElement;
  private readonly cameraSelect: HTMLSelectElement;
  private readonly micSelect: HTMLSelectElement;
  private readonly cameraButton: HTMLButtonElement;
  private readonly micButton: HTMLButtonElement;
  private readonly nameInput: HTMLInputElement | null;
  private readonly error: HTMLElement;
  private readonly joinButton: HTMLButtonElement;
  private stream = new MediaStream();
  private micOn = true;
  private cameraOn = true;
  private handedOver = false;
  private audio: { context: AudioContext; source: MediaStreamAudioSourceNode; analyser: AnalyserNode } | null = null;
  private meterFrame = 0;

  constructor(
    private readonly identity: PreJoinIdentity,
    private readonly onJoin: (choice: PreJoinChoice) => void,
  ) {
    this.preview = h('video', { class: 'prejoin-video mirrored', autoplay: true, playsinline: true, 'aria-label': 'Your camera preview' });
    this.preview.muted = true;
    this.cameraOffNote = h('p', { class: 'prejoin-camera-off', hidden: true }, 'Your camera is off');
    this.meter = h('meter', { class: 'prejoin-meter', min: 0, max: 1, low: 0.05, value: 0, 'aria-label': 'Microphone level' });
    this.cameraSelect = h('select', { id: 'prejoin-camera' });
    this.micSelect = h('select', { id: 'prejoin-mic' });
    this.cameraButton = h('button', { type: 'button', class: 'button button-secondary', 'aria-pressed': 'false' });
    this.micButton = h('button', { type: 'button', class: 'button button-secondary', 'aria-pressed': 'false' });
    this.error = h('p', { class: 'form-error', id: 'prejoin-error', role: 'alert', hidden: true });
    this.joinButton = h('button', { type: 'submit', class: 'button button-primary button-wide' }, 'Join');
    this.nameInput =
      identity.kind === 'guest'
        ? h('input', {
            id: 'prejoin-name',
            type: 'text',
            autocomplete: 'name',
            maxlength: 32,
            required: true,
            value: identity.name,
            'aria-describedby': 'prejoin-name-hint',
          })
        : null;
    const nameBlock =
      this.nameInput !== null
        ? h(
            'div',
            { class: 'field' },
            h('label', { for: 'prejoin-name' }, 'Your name'),
            this.nameInput,
            h(
              'p',
              { class: 'hint', id: 'prejoin-name-hint' },
              identity.kind === 'guest' && identity.marked === true
                ? 'You join as a guest: the other person sees this name marked “(guest)”.'
                : 'The other person sees this name.',
            ),
            identity.kind === 'guest' && identity.signIn !== undefined
              ? h('p', { class: 'hint prejoin-sign-in' }, 'Have an account here? ', h('a', { href: identity.signIn }, 'Sign in to join as yourself'), '.')
              : null,
          )
        : h('p', { class: 'prejoin-as' }, 'You join as ', h('strong', {}, identity.name), '.');
    const form = h(
      'form',
      { class: 'prejoin-form', novalidate: true, 'aria-labelledby': 'prejoin-title' },
      nameBlock,
      h(
        'div',
        { class: 'prejoin-toggles' },
        this.micButton,
        this.cameraButton,
      ),
      h('div', { class: 'field' }, h('label', { for: 'prejoin-mic' }, 'Microphone'), this.micSelect),
      h('div', { class: 'field' }, h('label', { for: 'prejoin-camera' }, 'Camera'), this.cameraSelect),
      this.error,
      this.joinButton,
    );
    this.disposer.listen(form, 'submit', (event: Event) => {
      event.preventDefault();
      this.join();
    });
    this.disposer.listen(this.micButton, 'click', () => this.setMic(!this.micOn));
    this.disposer.listen(this.cameraButton, 'click', () => void this.setCamera(!this.cameraOn));
    this.disposer.listen(this.micSelect, 'change', () => void this.capture('audio'));
    this.disposer.listen(this.cameraSelect, 'change', () => void this.capture('video'));
    this.root = h(
      'section',
      { class: 'screen prejoin-screen' },
      h(
        'div',
        { class: 'card prejoin-card' },
        h('h1', { id: 'prejoin-title' }, 'Ready to join?'),
        h('p', { class: 'lead' }, 'Check your camera and microphone. Nothing is sent until you join.'),
        h(
          'div',
          { class: 'prejoin-media' },
          h('div', { class: 'prejoin-stage' }, this.preview, this.cameraOffNote),
          h('div', { class: 'prejoin-level' }, icon('mic', 'icon icon-inline'), this.meter),
        ),
        form,
      ),
    );
    this.renderToggles();
  }

  /** Start the preview (asks for camera and microphone if the browser has not yet). */
  async start(): Promise<void> {
    await this.capture('both');
    await this.listDevices();
  }

  focus(): void {
    if (this.nameInput && this.nameInput.value === '') this.nameInput.focus();
    else this.joinButton.focus();
  }

  /** Joining failed before the call took the stream: it is this view's again. */
  joinFailed(text: string, onName = false): void {
    this.handedOver = false;
    this.showError(text, onName);
  }

  private showError(text: string, onName = false): void {
    this.error.textContent = text;
    setShown(this.error, true);
    this.setBusy(false);
    if (onName && this.nameInput) {
      this.nameInput.setAttribute('aria-invalid', 'true');
      this.nameInput.setAttribute('aria-errormessage', 'prejoin-error');
      this.nameInput.focus();
      this.nameInput.select();
    }
  }

  dispose(): void {
    cancelAnimationFrame(this.meterFrame);
    this.disposer.dispose();
    void this.audio?.context.close().catch(() => undefined);
    this.audio = null;
    this.preview.srcObject = null;
    if (!this.handedOver) for (const track of this.stream.getTracks()) track.stop();
  }

  private setBusy(busy: boolean): void {
    this.joinButton.disabled = busy;
    this.joinButton.textContent = busy ? 'Joining…' : 'Join';
  }

  private join(): void {
    const name = this.nameInput ? this.nameInput.value.trim() : this.identity.name;
    if (name === '') {
      this.showError('Enter the name the other person will see.', true);
      return;
    }
    setShown(this.error, false);
    this.nameInput?.removeAttribute('aria-invalid');
    this.setBusy(true);
    const tracks = this.stream.getTracks().filter((t) => t.readyState === 'live');
    this.handedOver = tracks.length > 0;
    this.onJoin({ name, stream: this.handedOver ? this.stream : null, micOn: this.micOn, cameraOn: this.cameraOn });
  }

  /** Capture (again) the microphone, the camera, or both, from the chosen devices. */
  private async capture(kind: 'audio' | 'video' | 'both'): Promise<void> {
    const wantAudio = kind !== 'video';
    const wantVideo = kind !== 'audio' && this.cameraOn;
    if (!wantAudio && !wantVideo) return;
    const pick = (select: HTMLSelectElement) => (select.value !== '' ? { deviceId: { exact: select.value } } : {});
    try {
      const fresh = await navigator.mediaDevices.getUserMedia({
        audio: wantAudio ? { ...audioConstraints(), ...pick(this.micSelect) } : false,
        video: wantVideo ? { ...videoConstraints(), ...pick(this.cameraSelect) } : false,
      });
      for (const track of fresh.getTracks()) this.replaceTrack(track);
      setShown(this.error, false);
    } catch (err) {
      this.showError(`${errorText(err)} You can still join; the other person will not see or hear you until this works.`);
    }
    this.renderPreview();
  }

  private replaceTrack(track: MediaStreamTrack): void {
    for (const old of this.stream.getTracks().filter((t) => t.kind === track.kind)) {
      old.stop();
      this.stream.removeTrack(old);
    }
    if (track.kind === 'audio') track.enabled = this.micOn;
    this.stream.addTrack(track);
    if (track.kind === 'audio') this.listen(track);
  }

  private setMic(on: boolean): void {
    this.micOn = on;
    for (const track of this.stream.getAudioTracks()) track.enabled = on;
    this.renderToggles();
  }

  private async setCamera(on: boolean): Promise<void> {
    this.cameraOn = on;
    this.renderToggles();
    if (on) {
      await this.capture('video');
      return;
    }
    // Off means off: the camera light goes out, not just a black picture.
    for (const track of this.stream.getVideoTracks()) {
      track.stop();
      this.stream.removeTrack(track);
    }
    this.renderPreview();
  }

  private renderToggles(): void {
    this.micButton.setAttribute('aria-pressed', String(!this.micOn));
    this.micButton.replaceChildren(icon(this.micOn ? 'mic' : 'micOff'), this.micOn ? 'Mute microphone' : 'Microphone muted');
    this.cameraButton.setAttribute('aria-pressed', String(!this.cameraOn));
    this.cameraButton.replaceChildren(icon(this.cameraOn ? 'camera' : 'cameraOff'), this.cameraOn ? 'Turn camera off' : 'Camera off');
    this.cameraSelect.disabled = !this.cameraOn;
  }

  private renderPreview(): void {
    const hasVideo = this.stream.getVideoTracks().some((t) => t.readyState === 'live');
    // A new MediaStream object makes the element pick up added and removed tracks.
    this.preview.srcObject = hasVideo ? new MediaStream(this.stream.getVideoTracks()) : null;
    setShown(this.preview, hasVideo);
    setShown(this.cameraOffNote, !hasVideo);
    this.cameraOffNote.textContent = this.cameraOn ? 'No camera picture' : 'Your camera is off';
  }

  private async listDevices(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select: HTMLSelectElement, kind: MediaDeviceKind, track: MediaStreamTrack | undefined, fallback: string) => {
      const current = track?.getSettings().deviceId;
      select.replaceChildren(
        ...devices
          .filter((d) => d.kind === kind)
          .map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === current }, d.label || `${fallback} ${i + 1}`)),
      );
    };
    fill(this.micSelect, 'audioinput', this.stream.getAudioTracks()[0], 'Microphone');
    fill(this.cameraSelect, 'videoinput', this.stream.getVideoTracks()[0], 'Camera');
  }

  /** The level meter: the loudness of the microphone, about 30 times a second. */
  private listen(track: MediaStreamTrack): void {
    if (typeof AudioContext !== 'function') return;
    if (this.audio === null) {
      const context = new AudioContext();
      const analyser = context.createAnalyser();
      analyser.fftSize = 512;
      this.audio = { context, analyser, source: context.createMediaStreamSource(new MediaStream([track])) };
    } else {
      this.audio.source.disconnect();
      this.audio.source = this.audio.context.createMediaStreamSource(new MediaStream([track]));
    }
    this.audio.source.connect(this.audio.analyser);
    void this.audio.context.resume().catch(() => undefined);
    cancelAnimationFrame(this.meterFrame);
    const samples = new Float32Array(this.audio.analyser.fftSize);
    const tick = () => {
      const audio = this.audio;
      if (!audio) return;
      audio.analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      // RMS, scaled so ordinary speech fills most of the bar.
      const level = this.micOn ? Math.min(1, Math.sqrt(sum / samples.length) * 4) : 0;
      this.meter.value = level;
      this.meterFrame = requestAnimationFrame(tick);
    };
    this.meterFrame = requestAnimationFrame(tick);
  }
}
