/**
 * Entry point: pick the app for the URL (/r/<room> is meet by link, anything else the phone
 * app), and warn up front when camera and microphone cannot work on this page.
 */
import './styles/index.css';
import { assertNever } from './assert-never.js';
import { mediaAvailable, parseRoute } from './environment.js';
import { PhoneApp, type AppDeps } from './phone-app.js';
import { Ringtone } from './ringtone.js';
import { RoomApp } from './room-app.js';
import { Shortcuts } from './shortcuts.js';
import { MessageScreen } from './views/message-screen.js';
import { Banners, Notices } from './views/notices.js';
import { ScreenHost } from './views/screen-host.js';

function element(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html lacks #${id}`);
  return el;
}

function insecureContextText(): string {
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(location.hostname);
  if (location.protocol === 'http:' && !local) {
    return (
      `Camera and microphone are blocked: this page was opened over plain http (${location.host}). ` +
      'Browsers allow them only on https:// or on localhost. Open the https:// address of this server ' +
      '(start it with --tls self-signed or put it behind an https proxy).'
    );
  }
  return 'Camera and microphone are not available in this browser or on this page, so calls cannot start here.';
}

const deps: AppDeps = {
  host: new ScreenHost(element('app')),
  banners: new Banners(element('banners')),
  notices: new Notices(element('notices')),
  ringtone: new Ringtone(),
  shortcuts: new Shortcuts(),
};

if (!mediaAvailable()) deps.banners.set('insecure', insecureContextText(), 'error');

const route = parseRoute(location.pathname);
switch (route.kind) {
  case 'home':
    new PhoneApp(deps).start();
    break;
  case 'room':
    new RoomApp(deps, route.room).start();
    break;
  case 'bad-room':
    deps.host.show(
      new MessageScreen(
        'This meeting link is not valid',
        'Meeting links look like /r/ followed by letters, digits, "-" or "_". Ask for the link again.',
        [{ label: 'Go to callwire home', primary: true, run: () => location.assign('/') }],
        'warning',
      ),
      'Meeting',
    );
    break;
  default:
    assertNever(route);
}
