/**
 * Meet by link: /r/<room> connects the two people who open it, without signing in. The page
 * signs in under a generated guest name (the server needs one), joins the room and shows the
 * call screen; while alone it offers the link to copy.
 */
import { connect, type CallwireClient } from '@callwire/client';
import { assertNever } from './assert-never.js';
import { CallSession, type CallSummary } from './call-session.js';
import { callMedia, guestName, roomUrl, signalingUrl } from './environment.js';
import { errorCode, errorText } from './messages.js';
import type { AppDeps } from './phone-app.js';
import { MessageScreen } from './views/message-screen.js';

const NAME_ATTEMPTS = 3;

export class RoomApp {
  private client: CallwireClient | null = null;
  private session: CallSession | null = null;
  /** How the last call in the room ended, for the screen that follows it. */
  private outcome: { title: string; text: string } | null = null;
  /** Why the last join was refused (an error code), if it was. */
  private refusal: string | null = null;

  constructor(
    private readonly deps: AppDeps,
    private readonly room: string,
  ) {}

  start(): void {
    void this.enter();
  }

  private async enter(): Promise<void> {
    this.deps.host.show(new MessageScreen('Joining the meeting…', 'Connecting to the server.', [], 'link'), 'Meeting');
    try {
      if (!this.client || this.client.state === 'closed') {
        this.client = await this.connectAsGuest();
        this.watchConnection(this.client);
      }
      this.join(this.client);
    } catch (err) {
      this.showProblem(err);
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

  /** A generated name can collide with someone online; try a few before giving up. */
  private async connectAsGuest(): Promise<CallwireClient> {
    let lastError: unknown;
    for (let i = 0; i < NAME_ATTEMPTS; i++) {
      try {
        return await connect(signalingUrl(), { name: guestName() });
      } catch (err) {
        lastError = err;
        if (errorCode(err) !== 'name_taken') break;
      }
    }
    throw lastError;
  }

  private join(client: CallwireClient): void {
    const session = new CallSession({
      host: this.deps.host,
      ringtone: this.deps.ringtone,
      me: client.name,
      peer: 'Meeting',
      direction: 'out',
      video: true,
      room: this.room,
      onEnded: (summary, notice) => {
        this.outcome = summary ? roomOutcome(summary, notice.text) : { title: 'Could not join', text: notice.text };
      },
      onLeave: () => {
        if (this.session === session) this.session = null;
        this.showEnded();
      },
    });
    this.session = session;
    this.refusal = null;
    session.show();
    client.join(this.room, callMedia(true)).then(
      (call) => session.attach(call),
      (err: unknown) => {
        this.refusal = errorCode(err);
        session.fail(err);
      },
    );
  }

  private showEnded(): void {
    if (this.refusal === 'room_full') return this.showFull();
    const outcome = this.outcome ?? { title: 'You left the meeting', text: '' };
    this.outcome = null;
    const screen = new MessageScreen(
      outcome.title,
      `${outcome.text} The link still works: rejoin to wait there until someone opens ${roomUrl(this.room)}.`.trim(),
      [
        { label: 'Rejoin', primary: true, run: () => void this.enter() },
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
        { label: 'Try again', primary: true, run: () => void this.enter() },
        { label: 'Go to callwire home', run: () => location.assign('/') },
      ],
      'link',
    );
    this.deps.host.show(screen, 'Meeting');
  }

  private showProblem(err: unknown): void {
    const code = errorCode(err);
    const text = code === 'connection_failed' ? 'Cannot reach the server. Check your connection and try again.' : errorText(err);
    this.deps.host.show(
      new MessageScreen('Could not join', text, [{ label: 'Try again', primary: true, run: () => void this.enter() }], 'warning'),
      'Meeting',
    );
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
