/**
 * Entry point: pick the app for the URL (/r/<room> is meet by link, anything else the phone
 * app), and warn up front when camera and microphone cannot work on this page.
 */
import './styles/index.css';
import { assertNever } from './assert-never.js';
import { CheckApp } from './check-app.js';
import { mediaAvailable, parseRoute } from './environment.js';
import { PhoneApp, type AppDeps } from './phone-app.js';
import { Ringtone } from './ringtone.js';
import { RoomApp } from './room-app.js';
import { Shortcuts } from './shortcuts.js';
import { MessageScreen } from './views/message-screen.js';
import { Banners, Notices } from './views/notices.js';
import { ScreenHost } from './views/screen-host.js';
import { fetchServerConfig } from './server-config.js';

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

// Installable, and opens without a network (public/sw.js keeps the app shell). Service workers
// exist only in a secure context, like camera and microphone.
if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('/sw.js').catch((err: unknown) => console.warn('callwire: no offline support:', err));
}

// Offline means "cannot reach the server", asked of the server itself: navigator.onLine says
// only whether a network interface is up, and is false on a machine that runs callwire on
// localhost with no network at all.
const OFFLINE_TEXT = 'You are offline. callwire needs a connection to its server for calls; it comes back when you are online.';
const checkServer = (): void => {
  void fetchServerConfig().then((config) => {
    if (config.reachable === false) deps.banners.set('offline', OFFLINE_TEXT, 'warn', { label: 'Try again', run: () => location.reload() });
    else deps.banners.remove('offline');
  });
};
window.addEventListener('offline', checkServer);
window.addEventListener('online', checkServer);
checkServer();

const route = parseRoute(location.pathname);
switch (route.kind) {
  case 'home':
    new PhoneApp(deps).start();
    break;
  case 'room':
    new RoomApp(deps, route.room).start();
    break;
  case 'check':
    new CheckApp(deps.host).start();
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
