/**
 * Meet by link: /r/<room> connects the two people who open it. First a pre-join screen (name,
 * camera preview, microphone level, devices, camera and microphone on or off); Join signs in
 * and joins the room, and the call screen shows; while alone it offers the link to copy.
 *
 * Who may join is the operator's rule (`GET /api/config`: `auth` and `rooms`). On an open server
 * anyone, under the name they type (remembered in this browser). On a server with accounts,
 * someone signed in here (the session kept by the home page) joins as themselves; anybody else,
 * with `rooms: guests`, joins as a guest under the name they type (the server marks it
 * "(guest)"), and with `rooms: accounts` is asked to sign in. With `rooms: off` the page says
 * links are turned off.
 */
import { connect, type CallwireClient } from '@callwire/client';
import { assertNever } from './assert-never.js';
import { lastName } from './call-history.js';
import { CallSession, type CallSummary } from './call-session.js';
import { callMedia, roomUrl, signalingUrl } from './environment.js';
import { fileLimit } from './file-limit.js';
import { errorCode, errorText } from './messages.js';
import type { AppDeps } from './phone-app.js';
import { forgetSession, savedSession } from './saved-session.js';
import { fetchServerConfig, type RoomsMode, type ServerConfig } from './server-config.js';
import { MessageScreen } from './views/message-screen.js';
import { PreJoinView, type PreJoinChoice, type PreJoinIdentity } from './views/pre-join-view.js';

const GUEST_NAME_KEY = 'callwire:meeting-name';
const NAME_RETRY_MS = 1_000;
const NAME_RETRIES = 2;

type Identity = PreJoinIdentity & { token?: string };

export class RoomApp {
  private client: CallwireClient | null = null;
  private session: CallSession | null = null;
  private config: ServerConfig = { auth: 'unknown' };
  private identity: Identity | null = null;
  /** The name typed for the connection in `client` (a guest's comes back marked). */
  private connectedAs = '';
  /** The stream the pre-join screen captured, owned by the app while a call uses it. */
  private stream: MediaStream | null = null;
  /** How the last call in the room ended, for the screen that follows it. */
  private outcome: { title: string; text: string } | null = null;
  /** Why the last join was refused (an error code), if it was. */
  private refusal: string | null = null;

  constructor(
    private readonly deps: AppDeps,
    private readonly room: string,
  ) {}

  start(): void {
    void this.begin();
  }

  private async begin(): Promise<void> {
    this.deps.host.show(new MessageScreen('Opening the meeting…', '', [], 'link'), 'Meeting');
    this.config = await fetchServerConfig();
    const saved = savedSession();
    const rooms = this.rooms();
    if (rooms === 'off') return this.showLinksOff();
    const guest: Identity = {
      kind: 'guest',
      name: rememberedGuestName(),
      marked: true,
      ...(this.config.auth === 'password' ? { signIn: this.signInPath() } : {}),
    };
    switch (this.config.auth) {
      case 'open':
      case 'unknown':
        this.identity = { kind: 'guest', name: rememberedGuestName() };
        break;
      case 'password':
        if (saved?.token !== undefined) this.identity = { kind: 'account', name: saved.name, token: saved.token };
        else if (rooms === 'guests') this.identity = guest;
        else return this.showNeedsAccount(null);
        break;
      case 'jwt':
        // The operator's site signs people in; this page cannot: only guests join from here.
        if (rooms !== 'guests') return this.showNeedsAccount(null);
        this.identity = guest;
        break;
      default:
        assertNever(this.config.auth);
    }
    this.showPreJoin();
  }

  /** The server's rule; one too old to say lets accounts in (and anyone on an open server). */
  private rooms(): RoomsMode {
    return this.config.rooms ?? (this.config.auth === 'open' || this.config.auth === 'unknown' ? 'guests' : 'accounts');
  }

  private signInPath(): string {
    return `/?next=${encodeURIComponent(`/r/${this.room}`)}`;
  }

  /** `--rooms off`: nobody joins by link here, so say so instead of asking for anything. */
  private showLinksOff(): void {
    this.deps.host.show(
      new MessageScreen(
        'Meeting links are turned off',
        'This server does not offer meetings by link. Ask the person who sent it how else to reach them: with an account here you can sign in and call them by name.',
        [{ label: 'Go to callwire home', primary: true, run: () => location.assign('/') }],
        'link',
      ),
      'Meeting',
    );
  }

  private showPreJoin(): void {
    const identity = this.identity;
    if (!identity) return;
    const view = new PreJoinView(identity, (choice) => void this.enter(view, choice));
    this.deps.host.show(view, 'Meeting');
    void view.start();
  }

  /** Accounts only (password and jwt servers): say what is needed, and how to get it. */
  private showNeedsAccount(problem: string | null): void {
    const jwt = this.config.auth === 'jwt';
    const text = jwt
      ? 'This server lets people join meetings once they are signed in through its own website. Open callwire from that site, then open this link again.'
      : 'This server lets only people with an account join meetings. Sign in with your name and password, and you come back here to join.';
    const next = this.signInPath();
    this.deps.host.show(
      new MessageScreen(
        problem ?? 'Sign in to join this meeting',
        text,
        jwt ? [{ label: 'Go to callwire home', run: () => location.assign('/') }] : [{ label: 'Sign in', primary: true, run: () => location.assign(next) }],
        'link',
      ),
      'Meeting',
    );
  }

  private async enter(view: PreJoinView, choice: PreJoinChoice): Promise<void> {
    const identity = this.identity;
    if (!identity) return;
    try {
      if (this.client && (this.client.state === 'closed' || this.connectedAs !== choice.name)) {
        this.client.close();
        this.client = null;
      }
      if (!this.client) {
        this.client = await this.connectAs(identity, choice.name);
        this.connectedAs = choice.name;
        this.deps.banners.remove('offline');
        this.watchConnection(this.client);
      }
    } catch (err) {
      this.client = null;
      const code = errorCode(err);
      if (identity.kind === 'guest') {
        if (code === 'name_taken') return view.joinFailed('Somebody here already uses that name. Pick another one.', true);
        if (code === 'name_reserved') {
          return view.joinFailed('That name belongs to somebody with an account here. Pick another one.', true);
        }
        if (code === 'guests_disabled') return this.showNeedsAccount(null);
        return view.joinFailed(errorText(err), code === 'name_invalid');
      }
      if (code === 'name_taken') {
        return view.joinFailed(`You are signed in as ${identity.name} in another tab or window. Close it (or sign out there), then join here.`);
      }
      if (code === 'invalid_credentials') {
        forgetSession();
        return this.showNeedsAccount('Your session has ended');
      }
      return view.joinFailed(errorText(err));
    }
    if (identity.kind === 'guest') {
      rememberGuestName(choice.name);
      this.identity = { ...identity, name: choice.name };
    }
    this.stream = choice.stream;
    this.join(this.client, choice);
  }

  /**
   * Sign in for the meeting. An account's own home page may have just left for this one (after
   * "Sign in" here): its connection can take a moment to close, so a taken name is tried again.
   */
  private async connectAs(identity: Identity, name: string): Promise<CallwireClient> {
    const maxFileBytes = fileLimit();
    if (identity.kind === 'guest' && identity.marked === true) return connect(signalingUrl(), { name, guest: true, maxFileBytes });
    if (identity.kind === 'guest' || identity.token === undefined) return connect(signalingUrl(), { name, maxFileBytes });
    for (let attempt = 0; ; attempt++) {
      try {
        return await connect(signalingUrl(), { name: identity.name, token: identity.token, maxFileBytes });
      } catch (err) {
        if (errorCode(err) !== 'name_taken' || attempt >= NAME_RETRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, NAME_RETRY_MS));
      }
    }
  }

  private watchConnection(client: CallwireClient): void {
    const banners = this.deps.banners;
    client.on('stateChanged', (state) => {
      // The meeting's media goes on while the connection comes back (the SDK resumes it).
      this.session?.view.setOwnReconnecting(state === 'reconnecting');
      switch (state) {
        case 'reconnecting':
          banners.set('connection', 'Connection to the server lost. Reconnecting…', 'warn');
          break;
        case 'open':
          banners.remove('connection');
          break;
        case 'closed':
          banners.set('connection', 'You are offline: the connection to the server was lost.', 'error', {
            label: 'Reload',
            run: () => location.reload(),
          });
          break;
        case 'connecting':
          break;
        default:
          assertNever(state);
      }
    });
  }

  private join(client: CallwireClient, choice: PreJoinChoice): void {
    const session = new CallSession({
      host: this.deps.host,
      ringtone: this.deps.ringtone,
      shortcuts: this.deps.shortcuts,
      me: client.name,
      peer: 'Meeting',
      direction: 'out',
      video: choice.cameraOn,
      room: this.room,
      onEnded: (summary, notice) => {
        this.outcome = summary ? roomOutcome(summary, notice.text) : { title: 'Could not join', text: notice.text };
      },
      onLeave: () => {
        if (this.session === session) this.session = null;
        this.releaseStream();
        this.showEnded();
      },
    });
    this.session = session;
    this.refusal = null;
    session.show();
    const stream = choice.stream;
    const options = stream ? { audio: stream.getAudioTracks().length > 0, video: stream.getVideoTracks().length > 0, localStream: stream } : callMedia(choice.cameraOn);
    client.join(this.room, options).then(
      (call) => {
        // Muted before joining stays muted: the other side sees it from the start.
        if (!choice.micOn) call.setMicrophoneEnabled(false);
        session.attach(call);
      },
      (err: unknown) => {
        this.refusal = errorCode(err);
        session.fail(err);
      },
    );
  }

  /** The SDK never stops tracks it was given: the app does, once the call is over. */
  private releaseStream(): void {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
  }

  private showEnded(): void {
    if (this.refusal === 'room_full') return this.showFull();
    if (this.refusal === 'rooms_disabled') return this.showLinksOff();
    const outcome = this.outcome ?? { title: 'You left the meeting', text: '' };
    this.outcome = null;
    const screen = new MessageScreen(
      outcome.title,
      `${outcome.text} The link still works: rejoin to wait there until someone opens ${roomUrl(this.room)}.`.trim(),
      [
        { label: 'Rejoin', primary: true, run: () => this.showPreJoin() },
        { label: 'Go to callwire home', run: () => location.assign('/') },
      ],
      'link',
    );
    this.deps.host.show(screen, 'Meeting');
  }

  /** Rejoining a full meeting would only be refused again: say when it can work. */
  private showFull(): void {
    this.outcome = null;
    const screen = new MessageScreen(
      'This meeting is full',
      'Two people are already in this meeting, and a meeting link is for two. Try again when one of them has left.',
      [
        { label: 'Try again', primary: true, run: () => this.showPreJoin() },
        { label: 'Go to callwire home', run: () => location.assign('/') },
      ],
      'link',
    );
    this.deps.host.show(screen, 'Meeting');
  }
}

function rememberedGuestName(): string {
  try {
    return window.localStorage.getItem(GUEST_NAME_KEY) ?? lastName();
  } catch {
    return '';
  }
}

function rememberGuestName(name: string): void {
  try {
    window.localStorage.setItem(GUEST_NAME_KEY, name);
  } catch {
    /* not essential */
  }
}

function roomOutcome(summary: CallSummary, fallback: string): { title: string; text: string } {
  const peer = summary.peer || 'The other person';
  if (summary.endedByMe) return { title: 'You left the meeting', text: '' };
  switch (summary.reason) {
    case 'hangup':
      return { title: 'The meeting ended', text: `${peer} left the meeting.` };
    case 'disconnected':
      return { title: 'The meeting ended', text: `${peer} lost the connection.` };
    default:
      return { title: 'The meeting ended', text: fallback };
  }
}
