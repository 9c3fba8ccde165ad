/**
 * The signed-in app: sign in, the home screen, placing and answering calls, and what to show
 * when the connection to the server comes and goes. State lives here; views only render it.
 */
import { connect, type Call, type CallwireClient, type IncomingCall } from '@callwire/client';
import { assertNever } from './assert-never.js';
import { CallAlerts } from './call-alerts.js';
import { CallHistory, lastName, rememberName } from './call-history.js';
import { CallSession, type CallSummary } from './call-session.js';
import { callMedia, nextRoomPath, signalingUrl } from './environment.js';
import { elsewhereNotice, errorCode, errorText, type Notice } from './messages.js';
import type { Ringtone } from './ringtone.js';
import type { Shortcuts } from './shortcuts.js';
import { forgetSession, keepSessionFresh, savedSession, saveSession, type SavedSession } from './saved-session.js';
import { fileLimit } from './file-limit.js';
import { fetchServerConfig, type ServerConfig } from './server-config.js';
import { MessageScreen } from './views/message-screen.js';
import { HomeView } from './views/home-view.js';
import { IncomingDialog, type IncomingChoice } from './views/incoming-dialog.js';
import type { Banners, Notices } from './views/notices.js';
import type { ScreenHost } from './views/screen-host.js';
import { SignInView, type SignInRequest } from './views/sign-in-view.js';
import type { LinkAudience } from './views/meeting-link.js';

export type AppDeps = { host: ScreenHost; banners: Banners; notices: Notices; ringtone: Ringtone; shortcuts: Shortcuts };

type Ringing = { incoming: IncomingCall; dialog: IncomingDialog; off: () => void; offKeys: () => void };

/** An open server may still hold the name of the page we replaced: wait this long between tries. */
const NAME_RETRY_MS = 1_000;
const NAME_RETRIES = 3;
/** How long "Call moved to …" waits for the device list that names where the call went. */
const MOVED_LABEL_WAIT_MS = 2_000;

export class PhoneApp {
  private client: CallwireClient | null = null;
  private history: CallHistory | null = null;
  private session: CallSession | null = null;
  /** A call on hold behind `session` (answered a waiting call by holding this one). */
  private held: CallSession | null = null;
  private ringing: Ringing | null = null;
  private clientOffs: Array<() => void> = [];
  private signingOut = false;
  private config: ServerConfig = { auth: 'unknown' };
  private stopRenewing: (() => void) | null = null;
  private readonly alerts = new CallAlerts();

  constructor(private readonly deps: AppDeps) {}

  start(): void {
    void this.begin();
  }

  private async begin(): Promise<void> {
    this.config = await fetchServerConfig();
    const saved = savedSession();
    // A jwt server's session tokens do not sign in again: its own site does that.
    if (saved && this.config.auth !== 'jwt' && (this.config.auth !== 'password' || saved.token !== undefined)) {
      await this.resumeSaved(saved);
    } else {
      this.showSignIn();
    }
  }

  // --- sign in / out -------------------------------------------------------------------------

  /** `about`: the field the problem is about (the password, unless said otherwise). */
  private showSignIn(problem?: string, about: 'password' | null = 'password'): void {
    const view = new SignInView(lastName(), this.config, (req) => void this.signIn(view, req));
    this.deps.host.show(view, 'Sign in');
    if (problem !== undefined) view.showError(problem, this.config.auth === 'password' ? about : null);
  }

  /** Sign in again after a reload, with what the last sign-in left in this browser. */
  private async resumeSaved(saved: SavedSession): Promise<void> {
    this.deps.host.show(new MessageScreen('Signing in…', `Signing you in as ${saved.name}.`, [], 'phone'), 'Sign in');
    const request = {
      name: saved.name,
      maxFileBytes: fileLimit(),
      callWaiting: true,
      keepAcrossReload: true,
      ...(saved.token !== undefined ? { token: saved.token } : {}),
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const client = await connect(signalingUrl(), request);
        this.onSignedIn(client);
        return;
      } catch (err) {
        const code = errorCode(err);
        // The page this one replaced may not have left yet (its socket closes as we connect).
        if (code === 'name_taken' && attempt < NAME_RETRIES) {
          await new Promise((resolve) => setTimeout(resolve, NAME_RETRY_MS));
          continue;
        }
        if (code === 'invalid_credentials') {
          forgetSession();
          this.showSignIn('Your session has ended. Sign in again.');
        } else if (code === 'connection_failed' || code === 'disconnected' || code === 'timeout') {
          this.showSignIn('Cannot reach the server. Check your connection and try again.');
        } else {
          forgetSession();
          this.showSignIn(errorText(err));
        }
        return;
      }
    }
  }

  private async signIn(view: SignInView, req: SignInRequest): Promise<void> {
    // The click is a user gesture: the only moment a browser lets us start audio for ringing.
    this.deps.ringtone.unlock();
    view.clearError();
    view.setBusy(true);
    try {
      const client = await connect(signalingUrl(), { ...req, maxFileBytes: fileLimit(), callWaiting: true, keepAcrossReload: true });
      this.onSignedIn(client);
    } catch (err) {
      view.setBusy(false);
      const code = errorCode(err);
      if (code === 'invalid_credentials') {
        const first = !view.passwordShown || req.password === undefined;
        view.showPassword(true);
        view.showError(first ? 'This server needs a password. Enter yours.' : errorText(err), 'password');
      } else if (code === 'connection_failed' || code === 'disconnected' || code === 'timeout') {
        view.showError('Cannot reach the server. Check your connection and try again.', null);
      } else {
        view.showError(errorText(err), 'name');
        view.focusName();
      }
    }
  }

  private onSignedIn(client: CallwireClient): void {
    // Reaching the server is the surest sign of being online again.
    this.deps.banners.remove('offline');
    rememberName(client.name);
    this.keepSession(client);
    // Signed in on the way to a meeting link: the meeting page signs in again with the kept
    // session, so this connection makes way for it.
    const next = nextRoomPath();
    if (next !== null && this.config.auth !== 'jwt') {
      client.close();
      location.assign(next);
      return;
    }
    this.client = client;
    this.signingOut = false;
    this.history = new CallHistory(client.name);
    this.clientOffs = [
      client.on('incoming', (incoming) => this.onIncoming(incoming)),
      client.on('callStarted', (call) => this.onCallStarted(call)),
      client.on('stateChanged', (state) => this.onConnectionState(state)),
      client.on('error', (err) => {
        if (err.code === 'signed_out') this.signedOutElsewhere();
        else console.warn('callwire:', err);
      }),
    ];
    this.showHome();
  }

  /** Keep what signs this person in again after a reload (see saved-session.ts). */
  private keepSession(client: CallwireClient): void {
    this.stopRenewing?.();
    this.stopRenewing = null;
    if (this.config.auth === 'jwt') return;
    const token = client.sessionToken;
    if (token === undefined) {
      if (this.config.auth !== 'password') saveSession({ name: client.name });
      return;
    }
    const session = { name: client.name, token };
    saveSession(session);
    if (this.config.auth === 'password') this.stopRenewing = keepSessionFresh(session);
  }

  private signOut(problem?: string): void {
    this.signingOut = true;
    forgetSession();
    this.stopRenewing?.();
    this.stopRenewing = null;
    this.endRinging();
    this.held?.hangup();
    this.session?.hangup();
    this.teardownClient();
    this.deps.banners.remove('connection');
    if (problem === undefined) this.showSignIn();
    else this.showSignIn(problem, null);
  }

  /**
   * Another of my devices signed this one out: its saved session no longer works (the server
   * revoked its tokens), so forget it, and say why the sign-in form is back.
   */
  private signedOutElsewhere(): void {
    this.signOut(errorText({ code: 'signed_out' }));
  }

  private teardownClient(): void {
    for (const off of this.clientOffs.splice(0)) off();
    this.client?.close();
    this.client = null;
  }

  private onConnectionState(state: CallwireClient['state']): void {
    const banners = this.deps.banners;
    // A call in progress keeps its media while the connection comes back (the SDK resumes it).
    this.session?.view.setOwnReconnecting(state === 'reconnecting');
    switch (state) {
      case 'reconnecting':
        banners.set(
          'connection',
          this.session?.active
            ? 'Connection to the server lost. Reconnecting… Your call goes on meanwhile.'
            : 'Connection to the server lost. Reconnecting…',
          'warn',
        );
        break;
      case 'open':
        banners.remove('connection');
        this.deps.notices.show({ text: 'Reconnected.', tone: 'info' });
        break;
      case 'closed':
        if (this.signingOut) return;
        this.endRinging();
        // The SDK reports why it closed ('error') right after this change: a device signed out
        // from elsewhere is not "offline", so decide once that has been said.
        queueMicrotask(() => {
          if (this.signingOut) return;
          banners.set('connection', 'You are offline: the connection to the server was lost.', 'error', {
            label: 'Sign in again',
            run: () => this.signOut(),
          });
        });
        break;
      case 'connecting':
        break;
      default:
        assertNever(state);
    }
  }

  // --- home ----------------------------------------------------------------------------------

  private showHome(): void {
    const client = this.client;
    const history = this.history;
    if (!client || !history) return this.showSignIn();
    const home = new HomeView(
      client,
      history,
      (name, video) => this.placeCall(name, video),
      () => this.signOut(),
      this.linkAudience(),
      this.config.auth === 'password' || this.config.auth === 'jwt',
      (callId, peer) => this.moveCallHere(callId, peer),
    );
    this.deps.host.show(home, client.name);
    // The missed calls have now been seen; the badge clears next time the list renders.
    setTimeout(() => history.markMissedSeen(), 3000);
  }

  /** Who may open a meeting link made here (`GET /api/config`); null when links are off. */
  private linkAudience(): LinkAudience | null {
    const { auth, rooms } = this.config;
    if (rooms === 'off') return null;
    if (auth === 'open' || auth === 'unknown') return 'anyone';
    // A server too old to say lets only accounts in, as it always did.
    return rooms === 'guests' ? 'guests' : 'accounts';
  }

  // --- calls ---------------------------------------------------------------------------------

  private newSession(peer: string, direction: 'in' | 'out' | 'from-call', video: boolean): CallSession | null {
    const client = this.client;
    if (!client || this.session?.active) return null;
    const session = new CallSession({
      host: this.deps.host,
      ringtone: this.deps.ringtone,
      shortcuts: this.deps.shortcuts,
      me: client.name,
      peer,
      direction: direction === 'out' ? 'out' : 'in',
      directionFromCall: direction === 'from-call',
      video,
      onEnded: (summary, notice, onScreen) => this.onCallEnded(summary, notice, onScreen),
      onLeave: () => {
        if (this.held === session) {
          // The call on hold ended while another had the screen (set aside, so dispose it here).
          this.held = null;
          this.deps.banners.remove('held');
          session.view.dispose();
          return;
        }
        if (this.session === session) this.session = null;
        // Signing out shows the sign-in screen itself once the call is hung up.
        if (this.signingOut) return;
        // Another call has the screen (this one was ended to answer it).
        if (this.session?.active) return;
        if (this.held) return this.returnToHeld();
        if (this.client) this.showHome();
        else this.showSignIn();
      },
    });
    this.session = session;
    session.show();
    return session;
  }

  /** The call in front ended: the one on hold behind it has the screen again, still on hold. */
  private returnToHeld(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    this.deps.banners.remove('held');
    this.session = held;
    held.show();
    this.deps.notices.show({ text: `${held.peer} is on hold. Press Resume to talk again.`, tone: 'info' });
  }

  private placeCall(name: string, video: boolean): void {
    const client = this.client;
    if (!client) return;
    const session = this.newSession(name, 'out', video);
    if (!session) return;
    client.call(name, callMedia(video)).then(
      (call) => session.attach(call),
      (err: unknown) => session.fail(err),
    );
  }

  /**
   * A call the SDK hands over without being asked here: this page reloaded mid-call and the
   * SDK took the call back (`keepAcrossReload`). Calls placed, accepted or moved here already
   * have their screen (it is opened before the SDK is asked), so only a call with no screen
   * is one to show.
   */
  private onCallStarted(call: Call): void {
    if (this.session?.active || call.state === 'ended') return;
    this.endRinging();
    const session = this.newSession(call.peer, 'from-call', call.localMedia.video);
    session?.attach(call);
  }

  /** "Move call here": the call on another of my devices goes on on this one. */
  private moveCallHere(callId: string, peer: string): void {
    const client = this.client;
    if (!client) return;
    const session = this.newSession(peer, 'from-call', true);
    if (!session) return;
    client.moveCallHere(callId, callMedia(true)).then(
      (call) => session.attach(call),
      (err: unknown) => session.fail(err),
    );
  }

  private onIncoming(incoming: IncomingCall): void {
    // Calling each other at the same moment: the server merges both invites into one call,
    // which our own call() then resolves with. Leave this invite alone so the merge can happen.
    if (this.session?.active && this.session.peer.toLowerCase() === incoming.from.toLowerCase()) return;
    // In a call, a second call is call waiting; a third (one already waits or is held) is busy.
    // The server answers "busy" itself when it can; this covers the gap in between.
    const waitingBehind = this.session?.active ? this.session.peer : undefined;
    if ((waitingBehind !== undefined && (!incoming.waiting || this.held)) || this.ringing) {
      incoming.decline('busy');
      return;
    }
    const video = incoming.media.video === true;
    const dialog = new IncomingDialog(incoming.from, video, (choice) => this.answer(choice), waitingBehind);
    const off = incoming.on('cancelled', (reason) => {
      this.endRinging();
      const elsewhere = elsewhereNotice(reason, incoming.from);
      if (elsewhere) {
        // Taken (or turned down) on another of my devices: not missed, and that device keeps it
        // in its own history.
        this.deps.notices.show(elsewhere);
        return;
      }
      this.recordMissed(incoming.from, video);
      this.deps.notices.show({ text: `Missed call from ${incoming.from}.`, tone: 'warn' });
    });
    // A accepts the way the caller asked (video or voice), D declines.
    const offKeys = this.deps.shortcuts.push((key) => {
      // During a call, A holds that call and answers (never ends it).
      if (key === 'a') this.answer(waitingBehind !== undefined ? 'hold' : video ? 'video' : 'voice');
      else if (key === 'd') this.answer('decline');
      else return false;
      return true;
    });
    this.ringing = { incoming, dialog, off, offKeys };
    this.deps.ringtone.start(waitingBehind === undefined ? 'ring' : 'waiting');
    dialog.setRinging(this.deps.ringtone.audible ? 'playing' : 'blocked');
    this.deps.host.setTitle(`Incoming call from ${incoming.from}`);
    this.alerts.start(incoming.from, video);
  }

  private answer(choice: IncomingChoice): void {
    const ringing = this.ringing;
    if (!ringing) return;
    this.endRinging();
    const { incoming } = ringing;
    const video = incoming.media.video === true;
    if (choice === 'decline') {
      incoming.decline(); // busy, for a waiting call
      this.history?.add({
        peer: incoming.from,
        direction: 'in',
        video,
        at: Date.now(),
        durationMs: 0,
        outcome: 'declined',
        missed: false,
      });
      return;
    }
    // Call waiting: the call on screen goes on hold behind the new one, or ends.
    const current = this.session?.active ? this.session : null;
    if (current !== null && choice === 'hold') {
      this.held = current;
      this.session = null;
      // Its screen comes back when the new call ends: keep it as it is.
      this.deps.host.setAside();
    } else if (current !== null) {
      this.session = null;
    }
    const session = this.newSession(incoming.from, 'in', choice === 'voice' ? false : video);
    if (!session) {
      incoming.decline('busy');
      return;
    }
    if (current !== null && choice === 'hold') {
      this.deps.banners.set('held', `${current.peer} is on hold. Their call comes back when this one ends.`, 'warn');
    }
    // Another of my devices may accept in the same moment and win: then say that, not "over".
    let lostTo: Notice | null = null;
    const offLost = incoming.on('cancelled', (reason) => (lostTo = elsewhereNotice(reason, incoming.from)));
    const media = callMedia(choice === 'voice' ? false : video);
    const accepted =
      current === null
        ? incoming.accept(media)
        : choice === 'hold'
          ? incoming.holdAndAccept(media)
          : incoming.endAndAccept(media);
    accepted.then(
      (call) => {
        offLost();
        session.attach(call);
      },
      (err: unknown) => {
        offLost();
        session.fail(err, lostTo ?? undefined);
        // Answering failed (no camera, or the caller gave up): the call we were in goes on.
        if (current !== null && choice === 'end' && current.active && !this.session?.active) {
          this.session = current;
          current.show();
        }
      },
    );
  }

  private endRinging(): void {
    const ringing = this.ringing;
    if (!ringing) return;
    this.ringing = null;
    ringing.off();
    ringing.offKeys();
    this.alerts.stop();
    ringing.dialog.close();
    this.deps.ringtone.stop();
    this.deps.host.setTitle(this.client?.name ?? '');
  }

  /**
   * "Call moved to Chrome on Linux": the device that took the call, from the account's device
   * list. The server sends the list right after the move; wait for it a moment if it is not
   * here yet, and fall back to words without a name.
   */
  private async movedNotice(summary: CallSummary): Promise<string> {
    const client = this.client;
    const find = (): string | undefined =>
      client?.devices.find((d) => !d.current && d.call?.callId === summary.callId)?.label;
    let label = find();
    if (label === undefined && client) {
      label = await new Promise<string | undefined>((resolve) => {
        const timer = setTimeout(() => {
          off();
          resolve(undefined);
        }, MOVED_LABEL_WAIT_MS);
        const off = client.on('devices', () => {
          const found = find();
          if (found === undefined) return;
          clearTimeout(timer);
          off();
          resolve(found);
        });
      });
    }
    return label === undefined ? `Call with ${summary.peer} moved to another of your devices.` : `Call moved to ${label}.`;
  }

  private recordMissed(peer: string, video: boolean): void {
    this.history?.add({ peer, direction: 'in', video, at: Date.now(), durationMs: 0, outcome: 'cancelled', missed: true });
  }

  private onCallEnded(summary: CallSummary | null, notice: Notice, onScreen: boolean): void {
    if (summary?.reason === 'moved') {
      void this.movedNotice(summary).then((text) => this.deps.notices.show({ text, tone: 'info' }));
    } else if (onScreen) {
      // The call screen stays and says how the call ended: the same sentence twice is noise.
    } else if (summary?.reason === 'disconnected') {
      // The SDK ends calls before it reports its own connection state; once that has settled,
      // tell apart "the other person's connection was lost" from "ours was".
      queueMicrotask(() => {
        const ours = this.client !== null && this.client.state !== 'open';
        this.deps.notices.show(ours ? { text: 'The call dropped: your connection to the server was lost.', tone: 'error' } : notice);
      });
    } else {
      this.deps.notices.show(notice);
    }
    if (summary?.reason === 'failed') {
      this.deps.banners.set('call-failed', 'A call could not connect. See what your network lets through.', 'warn', {
        label: 'Test my connection',
        run: () => location.assign('/check'),
      });
    }
    if (!summary) return;
    this.history?.add({
      peer: summary.peer,
      direction: summary.direction,
      video: summary.video,
      at: summary.startedAt,
      durationMs: summary.connectedMs,
      outcome: summary.reason,
      missed: false,
    });
  }
}
