/**
 * The home screen after sign-in: dial by name, who is online, missed and recent calls, and
 * meet by link.
 */
import type { CallwireClient } from '@callwire/client';
import type { CallHistory } from '../call-history.js';
import { avatar } from '../avatar.js';
import { Disposer, h } from '../dom.js';
import { isConstrainedDevice } from '../environment.js';
import { icon } from '../icons.js';
import { Watchlist } from '../watchlist.js';
import { alertsUndecided, askForAlerts } from '../call-alerts.js';
import { FILE_LIMIT_CHOICES, fileLimit, limitText, setFileLimit } from '../file-limit.js';
import { DevicesDialog } from './devices-dialog.js';
import { MeetingLink, type LinkAudience } from './meeting-link.js';
import { OnlineList, type CallAction } from './online-list.js';
import { OtherDeviceCall, type MoveAction } from './other-device-call.js';
import { RecentCalls } from './recent-calls.js';

const STATE_TEXT: Record<CallwireClient['state'], string> = {
  connecting: 'Connecting…',
  open: 'Online',
  reconnecting: 'Reconnecting…',
  closed: 'Offline',
};

export class HomeView {
  readonly root: HTMLElement;
  private readonly disposer = new Disposer();
  private readonly online: OnlineList;
  private readonly watchlist: Watchlist;
  private readonly recent: RecentCalls;
  private readonly dialInput: HTMLInputElement;
  private readonly heading: HTMLElement;
  private readonly otherCall: OtherDeviceCall;
  private devicesDialog: DevicesDialog | null = null;

  constructor(
    client: CallwireClient,
    history: CallHistory,
    onCall: CallAction,
    onSignOut: () => void,
    /** Who may open a meeting link here; null: links are turned off (no card). */
    links: LinkAudience | null = 'anyone',
    /** The server has accounts (password, jwt): devices exist. */
    accountsOnly = false,
    /** "Move call here" on the note that another of my devices is in a call. */
    onMove?: MoveAction,
  ) {
    this.watchlist = new Watchlist(client, history);
    this.online = new OnlineList(client, onCall, (names) => this.watchlist.setSearchResults(names));
    this.recent = new RecentCalls(history, onCall);
    this.otherCall = new OtherDeviceCall(client, onMove);
    // Devices exist where people prove who they are (password, jwt); an open server has none.
    const devicesButton =
      client.device !== undefined && accountsOnly
        ? h(
            'button',
            {
              type: 'button',
              class: 'button button-ghost button-small devices-button',
              'aria-haspopup': 'dialog',
              onclick: () => {
                this.devicesDialog ??= new DevicesDialog(client, () => (this.devicesDialog = null));
              },
            },
            icon('screen'),
            // On a phone the top bar has room for the icon only; the word stays the name.
            h('span', { class: 'devices-button-text' }, 'Devices'),
          )
        : null;
    const status = h('span', { class: `conn conn-${client.state}` }, STATE_TEXT[client.state]);
    this.disposer.add(
      client.on('stateChanged', (state) => {
        status.className = `conn conn-${state}`;
        status.textContent = STATE_TEXT[state];
      }),
    );

    this.heading = h('h2', { id: 'dial-title', tabindex: '-1' }, 'Call someone');
    this.dialInput = h('input', {
      id: 'dial-name',
      type: 'text',
      placeholder: 'Name',
      autocomplete: 'off',
      autocapitalize: 'off',
      spellcheck: 'false',
      maxlength: 64,
      'aria-label': 'Name to call',
    });
    const dial = (video: boolean): void => {
      const name = this.dialInput.value.trim();
      if (name === '') {
        this.dialInput.focus();
        return;
      }
      onCall(name, video);
    };
    const dialForm = h(
      'form',
      { class: 'dial-form', 'aria-labelledby': 'dial-title' },
      this.dialInput,
      h(
        'button',
        { type: 'button', class: 'button button-secondary', onclick: () => dial(false) },
        icon('phone'),
        h('span', {}, 'Voice call'),
      ),
      h('button', { type: 'submit', class: 'button button-primary' }, icon('camera'), h('span', {}, 'Video call')),
    );
    dialForm.addEventListener('submit', (event) => {
      event.preventDefault();
      dial(true);
    });

    this.root = h(
      'section',
      { class: 'screen home-screen', 'aria-label': 'Home' },
      h(
        'header',
        { class: 'topbar' },
        // The page's one h1 (axe: page-has-heading-one), with the brand's look.
        h('h1', { class: 'brand' }, h('span', { class: 'brand-mark' }, icon('phone')), h('span', {}, 'callwire')),
        h(
          'div',
          { class: 'me' },
          avatar(client.name),
          h('span', { class: 'me-text' }, h('span', { class: 'me-name' }, client.name), status),
          devicesButton,
          h('button', { type: 'button', class: 'button button-ghost button-small', onclick: onSignOut }, 'Sign out'),
        ),
      ),
      this.otherCall.root,
      h(
        'div',
        { class: 'home-grid' },
        h(
          'div',
          { class: 'home-main' },
          h('section', { class: 'card dial-card', 'aria-labelledby': 'dial-title' }, this.heading, dialForm),
          this.online.root,
        ),
        h('div', { class: 'home-side' }, this.recent.root, links === null ? null : new MeetingLink(links).root, alertsUndecided() ? alertsCard() : null, filesCard(client)),
      ),
    );
  }

  focus(): void {
    // On phones a focused field pops the keyboard over the list; start from the heading there.
    if (isConstrainedDevice()) this.heading.focus();
    else this.dialInput.focus();
  }

  dispose(): void {
    this.devicesDialog?.close();
    this.otherCall.dispose();
    this.online.dispose();
    this.watchlist.dispose();
    this.recent.dispose();
    this.disposer.dispose();
  }
}

/** How large a file others may send here; larger ones are refused without asking. */
function filesCard(client: CallwireClient): HTMLElement {
  const select = h('select', { id: 'file-limit' });
  const current = fileLimit();
  for (const bytes of FILE_LIMIT_CHOICES) {
    const option = h('option', { value: String(bytes) }, limitText(bytes));
    option.selected = bytes === current;
    select.appendChild(option);
  }
  const status = h('p', { class: 'hint', id: 'file-limit-hint', role: 'status' }, 'You are asked before any file is received. Larger files are refused without asking.');
  select.setAttribute('aria-describedby', 'file-limit-hint');
  select.addEventListener('change', () => {
    const bytes = Number(select.value);
    setFileLimit(bytes);
    client.setMaxFileBytes(bytes);
    status.textContent = `Saved: files up to ${limitText(bytes)} are offered to you; larger ones are refused without asking.`;
  });
  return h(
    'section',
    { class: 'card files-card', 'aria-labelledby': 'files-title' },
    h('h2', { id: 'files-title' }, 'Incoming files'),
    h('div', { class: 'field' }, h('label', { for: 'file-limit' }, 'Accept files up to'), select),
    status,
  );
}

/**
 * Asking for notification permission is the person's own choice, made here with a click (a
 * browser may ignore a request made without one, and an ask on load is only noise).
 */
function alertsCard(): HTMLElement {
  const status = h('p', { class: 'hint', role: 'status' }, 'Get a notification when someone calls while this tab is in the background.');
  const button = h('button', { type: 'button', class: 'button button-secondary' }, 'Turn on call alerts');
  button.addEventListener('click', () => {
    void askForAlerts().then((permission) => {
      button.hidden = true;
      status.textContent =
        permission === 'granted'
          ? 'Call alerts are on: calls ring here even while you look at another tab.'
          : 'Call alerts are off. You can allow notifications for this site in the browser settings.';
    });
  });
  return h('section', { class: 'card alerts-card', 'aria-labelledby': 'alerts-title' }, h('h2', { id: 'alerts-title' }, 'Call alerts'), status, button);
}
