/**
 * The call screen: the remote video large, the local preview in a corner, or, in a voice call
 * (or while the peer's camera is off), the peer's name and avatar. A timer, a quality badge,
 * the control bar, and side panels for chat, stats and devices.
 *
 * An outgoing call shows this screen before the SDK hands over its Call (so "Cancel" works at
 * once); `attach()` connects it to the call when it arrives.
 *
 * A signaling drop on either side does not end the call: the media goes on peer to peer while
 * the connection to the server comes back, so the screen stays as it is and only says so
 * ("Reconnecting…" for ours, "bob is reconnecting…" for theirs).
 */
import type { Call, StatsSample } from '@callwire/client';
import { assertNever } from '../assert-never.js';
import { avatar } from '../avatar.js';
import { Disposer, formatDuration, h, setShown } from '../dom.js';
import { roomUrl } from '../environment.js';
import { icon } from '../icons.js';
import type { Notice } from '../messages.js';
import { CallControls, type PanelName } from './call-controls.js';
import { ChatPanel } from './chat-panel.js';
import { DevicePicker } from './device-picker.js';
import { copyText } from './meeting-link.js';
import { QualityIndicator } from './quality-indicator.js';
import { StatsGraph } from './stats-graph.js';
import { VerifyPanel } from './verify-panel.js';
import type { Shortcuts } from '../shortcuts.js';

export type CallViewOptions = {
  peer: string;
  me: string;
  /** M, V, P, C and H work on this screen while it is shown. */
  shortcuts: Shortcuts;
  /** Meet by link: the room, whose link is offered while waiting. */
  room?: string;
  onHangup: () => void;
  /** "Done" on an ended call whose transcript stayed on screen. */
  onClose: () => void;
};

type RemoteMedia = Call['remoteMedia'];

export class CallView {
  readonly root: HTMLElement;
  private readonly disposer = new Disposer();
  private readonly remoteVideo: HTMLVideoElement;
  private readonly localVideo: HTMLVideoElement;
  private readonly title: HTMLElement;
  private readonly voiceName: HTMLElement;
  private readonly avatarSlot: HTMLElement;
  private shownPeer: string;
  private readonly status: HTMLElement;
  private readonly announcer: HTMLElement;
  private readonly voiceStatus: HTMLElement;
  private readonly voiceExtra: HTMLElement;
  private readonly flags: HTMLElement;
  private readonly unmute: HTMLButtonElement;
  private readonly side: HTMLElement;
  private readonly sideTitle: HTMLElement;
  private readonly sideBody: HTMLElement;
  private readonly controls: CallControls;
  private readonly quality = new QualityIndicator();
  private readonly graph = new StatsGraph();
  private readonly verify: VerifyPanel;
  private chat: ChatPanel | null = null;
  private devices: DevicePicker | null = null;
  private call: Call | null = null;
  private panel: PanelName | null = null;
  private connectedAt: number | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private sawRemoteVideo = false;
  private ended = false;
  /** What the peer's media flags say (muted, camera off, sharing). */
  private mediaFlags: string[] = [];
  private ownReconnecting = false;
  private unread = 0;
  /** A message that arrived with the chat closed, shown for a few seconds; a click opens the chat. */
  private readonly chatToast: HTMLButtonElement;
  private chatToastTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly opts: CallViewOptions) {
    this.remoteVideo = h('video', { class: 'remote-video', autoplay: true, playsinline: true, 'aria-label': `Video from ${opts.peer}` });
    this.localVideo = h('video', { class: 'local-video mirrored', autoplay: true, playsinline: true, 'aria-label': 'Your camera', hidden: true });
    // The property, not the attribute, is what keeps our own microphone out of our speakers.
    this.localVideo.muted = true;
    this.shownPeer = opts.peer;
    this.title = h('h1', { class: 'call-peer', tabindex: '-1' }, opts.peer);
    this.voiceName = h('p', { class: 'voice-name' }, opts.peer);
    // In a meeting room nobody is known yet: show the link, not a letter.
    this.avatarSlot = h(
      'div',
      { class: 'pulse' },
      opts.room ? h('span', { class: 'avatar avatar-large avatar-icon', 'aria-hidden': 'true' }, icon('link')) : avatar(opts.peer, 'large'),
    );
    // The status ticks every second, so it is not a live region; state changes are announced
    // through `announcer` instead.
    this.status = h('span', { class: 'call-status' }, 'Calling…');
    this.announcer = h('span', { class: 'visually-hidden', role: 'status' });
    this.voiceStatus = h('p', { class: 'voice-status' }, 'Calling…');
    this.voiceExtra = h('div', { class: 'voice-extra' });
    this.flags = h('ul', { class: 'peer-flags', 'aria-live': 'polite', 'aria-label': `${opts.peer}'s status` });
    this.unmute = h(
      'button',
      { type: 'button', class: 'button button-primary unmute-button', hidden: true, onclick: () => void this.enableSound() },
      icon('speaker'),
      'Turn on sound',
    );
    this.controls = new CallControls(null, (p) => this.togglePanel(p), opts.onHangup);
    this.chatToast = h('button', {
      type: 'button',
      class: 'chat-toast',
      hidden: true,
      onclick: () => {
        if (this.panel !== 'chat') this.togglePanel('chat');
      },
    });
    this.verify = new VerifyPanel({
      peer: () => this.peerName,
      onHoldChanged: () => this.setRemote(this.call?.remoteStream ?? null),
      onHangup: opts.onHangup,
    });
    this.sideTitle = h('h2', { id: 'side-title', tabindex: '-1' });
    this.sideBody = h('div', { class: 'side-body' });
    this.side = h(
      'aside',
      { class: 'side-panel', 'aria-labelledby': 'side-title', hidden: true },
      h(
        'div',
        { class: 'side-head' },
        this.sideTitle,
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close panel', onclick: () => this.togglePanel(null) }, icon('close')),
      ),
      this.sideBody,
    );
    this.disposer.listen(this.side, 'keydown', (event: KeyboardEvent) => {
      if (event.key === 'Escape') this.togglePanel(null);
    });
    this.root = h(
      'section',
      { class: 'screen call-screen', 'data-state': 'calling', 'data-layout': 'voice', 'aria-labelledby': 'call-title-wrap' },
      h(
        'div',
        { class: 'stage' },
        this.remoteVideo,
        h(
          'div',
          { class: 'voice-card' },
          this.avatarSlot,
          this.voiceName,
          this.voiceStatus,
          this.voiceExtra,
        ),
        h(
          'header',
          { class: 'call-top', id: 'call-title-wrap' },
          h('div', { class: 'call-heading' }, this.title, this.status),
          h('div', { class: 'call-badges' }, this.verify.button, this.quality.root),
        ),
        this.verify.panel,
        this.verify.warning,
        this.flags,
        this.unmute,
        this.localVideo,
        this.controls.error,
        this.chatToast,
        this.announcer,
      ),
      this.side,
      this.controls.root,
    );
    this.graph.root.id = 'call-stats';
    this.disposer.add(opts.shortcuts.push((key) => this.controls.shortcut(key)));
    if (opts.room) this.showRoomLink(opts.room);
  }

  get peerName(): string {
    return this.call?.peer || this.opts.peer;
  }

  /** Time spent connected so far. */
  get connectedMs(): number {
    return this.connectedAt === null ? 0 : Date.now() - this.connectedAt;
  }

  get hasTranscript(): boolean {
    return this.chat?.hasContent ?? false;
  }

  focus(): void {
    this.title.focus();
  }

  attach(call: Call): void {
    this.call = call;
    this.controls.attach(call);
    this.chat = new ChatPanel(call, this.opts.me, (preview) => {
      if (this.panel === 'chat') return;
      this.unread++;
      this.controls.setUnread(this.unread);
      this.showChatPreview(preview);
    });
    this.devices = new DevicePicker(call, this.remoteVideo);
    this.verify.attach(call);
    this.disposer.add(call.on('stateChanged', (state) => this.onState(state)));
    this.disposer.add(call.on('remoteStream', (stream) => this.setRemote(stream)));
    this.disposer.add(call.on('localStreamChanged', (stream) => this.setLocal(stream)));
    this.disposer.add(call.on('peerMediaChanged', (media) => this.onPeerMedia(media, true)));
    this.disposer.add(call.on('stats', (sample: StatsSample) => this.onStats(sample)));
    this.disposer.add(call.on('peerReconnecting', () => this.renderFlags()));
    this.disposer.add(call.on('peerReconnected', () => this.renderFlags()));
    this.disposer.add(
      call.on('holdChanged', () => {
        this.renderFlags();
        this.announcer.textContent = this.holdText() ?? 'The call is back on: off hold.';
      }),
    );
    this.setLocal(call.localStream);
    if (call.remoteStream) this.setRemote(call.remoteStream);
    const media = call.remoteMedia;
    this.onPeerMedia(media, media.audio || media.video || media.screen);
    this.renderFlags();
    this.onState(call.state);
  }

  /** Our own connection to the server dropped (true) or is back (false). */
  setOwnReconnecting(reconnecting: boolean): void {
    if (this.ownReconnecting === reconnecting) return;
    this.ownReconnecting = reconnecting;
    this.renderFlags();
  }

  /** The call is over. Either the screen goes away, or it stays with the transcript. */
  showEnded(notice: Notice): void {
    this.ended = true;
    this.verify.end();
    this.stopTimer();
    this.root.dataset.state = 'ended';
    this.root.dataset.layout = 'voice';
    this.status.textContent = 'Call ended';
    this.voiceStatus.textContent = notice.text;
    this.announcer.textContent = notice.text;
    this.controls.setConnected(false);
    this.controls.root.setAttribute('hidden', '');
    this.remoteVideo.srcObject = null;
    this.localVideo.srcObject = null;
    setShown(this.localVideo, false);
    this.flags.replaceChildren();
    this.root.classList.remove('link-lost');
    // What was said and sent stays readable (and received files downloadable).
    if (this.panel !== 'chat') this.togglePanel('chat');
    const done = h('button', { type: 'button', class: 'button button-primary', onclick: this.opts.onClose }, 'Done');
    this.voiceExtra.replaceChildren(done);
    done.focus();
  }

  dispose(): void {
    this.stopTimer();
    this.hideChatPreview();
    this.disposer.dispose();
    this.verify.dispose();
    this.controls.dispose();
    this.chat?.dispose();
    this.devices?.dispose();
    this.remoteVideo.srcObject = null;
    this.localVideo.srcObject = null;
  }

  private onState(state: Call['state']): void {
    if (this.ended) return;
    this.root.dataset.state = state;
    // Which call this is (the server's id): the same after a reload or a move to this device.
    if (this.call?.id) this.root.dataset.callId = this.call.id;
    this.showPeer();
    switch (state) {
      case 'waiting':
        this.setStatus('Waiting for the other person to open the link…');
        break;
      case 'ringing':
        this.setStatus(this.call?.role === 'callee' ? 'Answering…' : 'Ringing…');
        break;
      case 'connecting':
        this.setStatus('Connecting…');
        this.voiceExtra.replaceChildren();
        break;
      case 'connected':
        this.controls.setConnected(true);
        this.voiceExtra.replaceChildren();
        this.announcer.textContent = `Connected with ${this.peerName}`;
        if (this.connectedAt === null) {
          // The SDK's time, not ours: a call taken back after a reload, or moved here from
          // another device, goes on from when it was answered instead of from 0:00. (A clock
          // ahead of ours must not make the timer start below zero.)
          this.connectedAt = Math.min(this.call?.connectedAt ?? Date.now(), Date.now());
          this.timer = setInterval(() => this.tick(), 1000);
        }
        this.tick();
        break;
      case 'ended':
        this.stopTimer();
        break;
      default:
        assertNever(state);
    }
  }

  /** In a meeting room the other person's name is known only once they arrive. */
  private showPeer(): void {
    const peer = this.call?.peer ?? '';
    if (peer === '' || peer === this.shownPeer) return;
    this.shownPeer = peer;
    this.title.textContent = peer;
    this.voiceName.textContent = peer;
    this.avatarSlot.replaceChildren(avatar(peer, 'large'));
    this.remoteVideo.setAttribute('aria-label', `Video from ${peer}`);
    this.flags.setAttribute('aria-label', `${peer}'s status`);
  }

  private setStatus(text: string): void {
    this.status.textContent = text;
    this.voiceStatus.textContent = text;
    this.announcer.textContent = text;
  }

  private tick(): void {
    const text = formatDuration(this.connectedMs);
    this.status.textContent = text;
    this.voiceStatus.textContent = this.voiceLabel(text);
    this.status.setAttribute('aria-label', `Connected for ${text}`);
  }

  /**
   * The line under the peer's name while no video of theirs shows. A video call whose peer
   * turned the camera off is still a video call: only a call without any camera is "Voice call".
   */
  private voiceLabel(duration: string): string {
    const remote = this.call?.remoteMedia;
    if (remote?.video || remote?.screen) return duration;
    const videoCall = this.sawRemoteVideo || (this.call?.localMedia.video ?? false);
    return videoCall ? `Camera off · ${duration}` : `Voice call · ${duration}`;
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private setRemote(stream: MediaStream | null): void {
    // Until the call's keys are checked the peer is neither seen nor heard (verify-panel.ts).
    if (this.verify.holdsMedia) stream = null;
    if (this.remoteVideo.srcObject !== stream) this.remoteVideo.srcObject = stream;
    if (stream) void this.play();
    this.updateLayout();
  }

  /**
   * Browsers refuse to autoplay sound on a page the person has not clicked yet (a meeting link
   * opened straight from a chat app). Then play muted and offer a button to turn sound on.
   */
  private async play(): Promise<void> {
    try {
      await this.remoteVideo.play();
    } catch (err) {
      if (!(err instanceof DOMException) || err.name !== 'NotAllowedError') return;
      this.remoteVideo.muted = true;
      setShown(this.unmute, true);
      await this.remoteVideo.play().catch(() => undefined);
    }
  }

  /**
   * Shown again after another call had the screen (call waiting): a video element stops
   * playing when it leaves the page, so start it again.
   */
  resumePlayback(): void {
    if (this.remoteVideo.srcObject) void this.play();
    if (this.localVideo.srcObject) void this.localVideo.play().catch(() => undefined);
  }

  private async enableSound(): Promise<void> {
    this.remoteVideo.muted = false;
    setShown(this.unmute, false);
    await this.play();
  }

  private setLocal(stream: MediaStream | null): void {
    const video = stream?.getVideoTracks().find((t) => t.readyState === 'live');
    if (this.localVideo.srcObject !== stream) this.localVideo.srcObject = stream;
    // A camera preview is mirrored (as people expect to see themselves); a shared screen is not.
    this.localVideo.classList.toggle('mirrored', !(this.call?.localMedia.screen ?? false));
    setShown(this.localVideo, !!video && !this.ended);
  }

  private onPeerMedia(media: RemoteMedia, announced: boolean): void {
    // Until the peer's first announcement the SDK reports everything off; that is not "muted".
    if (!announced) {
      this.updateLayout();
      return;
    }
    const peer = this.peerName;
    const items: string[] = [];
    if (!media.audio) items.push(`${peer} is muted`);
    if (media.screen) items.push(`${peer} is sharing their screen`);
    else if (!media.video && this.sawRemoteVideo) items.push(`${peer} turned their camera off`);
    this.mediaFlags = items;
    this.renderFlags();
    this.root.classList.toggle('peer-screen', media.screen);
    this.updateLayout();
  }

  /**
   * The flags on the video: a lost signaling connection first (ours, or else the peer's: while
   * ours is down we cannot know theirs), then what the peer's media state says.
   */
  private renderFlags(): void {
    if (this.ended) return;
    const link = this.ownReconnecting
      ? 'Reconnecting…'
      : this.call?.peerReconnecting
        ? `${this.peerName} is reconnecting…`
        : null;
    this.root.classList.toggle('link-lost', link !== null);
    const hold = this.holdText();
    // The timer goes on while held (it is still the same call); only the picture dims.
    this.root.classList.toggle('on-hold', hold !== null);
    this.flags.replaceChildren(
      ...(hold !== null ? [h('li', { class: 'flag flag-hold', 'data-flag': 'hold' }, hold)] : []),
      ...(link !== null ? [h('li', { class: 'flag flag-link', 'data-flag': 'link' }, link)] : []),
      ...this.mediaFlags.map((text) => h('li', { class: 'flag' }, text)),
    );
  }

  /** Who holds the call, in words; our own hold first (it is ours to take off). */
  private holdText(): string | null {
    const hold = this.call?.onHold;
    if (!hold || this.call?.state === 'ended') return null;
    if (hold.local) return 'On hold';
    if (hold.remote) return `${this.peerName} put you on hold`;
    return null;
  }

  private updateLayout(): void {
    const media = this.call?.remoteMedia;
    const stream = this.remoteVideo.srcObject instanceof MediaStream ? this.remoteVideo.srcObject : null;
    const hasTrack = (stream?.getVideoTracks().length ?? 0) > 0;
    const showVideo = !this.ended && hasTrack && !!media && (media.video || media.screen);
    if (showVideo) this.sawRemoteVideo = true;
    this.root.dataset.layout = showVideo ? 'video' : 'voice';
  }

  private onStats(sample: StatsSample): void {
    this.quality.update(sample);
    this.graph.push(sample);
  }

  private showChatPreview(preview: string): void {
    // Long messages are cut for the preview; the chat has them whole.
    const text = preview.length > 120 ? `${preview.slice(0, 119)}…` : preview;
    this.chatToast.replaceChildren(icon('chat', 'icon icon-inline'), h('span', { class: 'chat-toast-text' }, text), h('span', { class: 'visually-hidden' }, ' (open the chat)'));
    setShown(this.chatToast, true);
    this.announcer.textContent = text;
    if (this.chatToastTimer !== null) clearTimeout(this.chatToastTimer);
    this.chatToastTimer = setTimeout(() => this.hideChatPreview(), 6000);
  }

  private hideChatPreview(): void {
    if (this.chatToastTimer !== null) clearTimeout(this.chatToastTimer);
    this.chatToastTimer = null;
    setShown(this.chatToast, false);
  }

  private togglePanel(panel: PanelName | null): void {
    const next = panel === this.panel ? null : panel;
    if (next === 'chat') {
      this.unread = 0;
      this.hideChatPreview();
    }
    const previous = this.panel;
    this.panel = next;
    this.controls.setPanel(next);
    this.graph.setVisible(next === 'stats');
    setShown(this.side, next !== null);
    this.root.classList.toggle('with-panel', next !== null);
    if (next === null) {
      this.sideBody.replaceChildren();
      // Focus goes back to the button that opened the panel.
      if (previous) this.controls.focusPanelButton(previous);
      return;
    }
    this.sideTitle.textContent = next === 'chat' ? 'Chat' : next === 'stats' ? 'Connection' : 'Devices';
    switch (next) {
      case 'chat':
        if (this.chat) this.sideBody.replaceChildren(this.chat.root);
        this.chat?.focus();
        break;
      case 'stats':
        this.sideBody.replaceChildren(this.graph.root);
        this.graph.setVisible(true);
        this.sideTitle.focus();
        break;
      case 'devices':
        if (this.devices) {
          this.sideBody.replaceChildren(this.devices.root);
          void this.devices.refresh();
        }
        this.sideTitle.focus();
        break;
      default:
        assertNever(next);
    }
  }

  private showRoomLink(room: string): void {
    const url = roomUrl(room);
    const output = h('input', { type: 'text', readonly: true, class: 'link-output', value: url, 'aria-label': 'Meeting link' });
    const status = h('span', { class: 'copy-status', role: 'status' });
    const copy = h(
      'button',
      {
        type: 'button',
        class: 'button button-small',
        onclick: () =>
          void copyText(url, output).then((ok) => {
            status.textContent = ok ? 'Link copied.' : 'Press Ctrl+C (or ⌘C) to copy.';
          }),
      },
      icon('copy'),
      'Copy link',
    );
    this.voiceExtra.replaceChildren(h('div', { class: 'link-result' }, output, h('div', { class: 'link-actions' }, copy, status)));
  }
}
