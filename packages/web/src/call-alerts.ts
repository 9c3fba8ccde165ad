/**
 * Telling a person about a ringing call when the tab is in the background: the tab title
 * flashes, and, if they allowed it, a system notification appears; clicking it brings the tab
 * (with its ringing dialog) to the front. Permission is asked only when the person presses
 * "Turn on call alerts", never on load.
 */

const FLASH_MS = 1000;

export function alertsSupported(): boolean {
  return typeof Notification === 'function';
}

/** Whether the "Turn on call alerts" button makes sense: supported and not yet decided. */
export function alertsUndecided(): boolean {
  return alertsSupported() && Notification.permission === 'default';
}

export async function askForAlerts(): Promise<NotificationPermission> {
  if (!alertsSupported()) return 'denied';
  try {
    return await Notification.requestPermission();
  } catch {
    return 'denied';
  }
}

export class CallAlerts {
  private flashTimer: ReturnType<typeof setInterval> | null = null;
  private notification: Notification | null = null;
  private restoreTitle = '';
  private readonly onVisible = () => {
    if (document.visibilityState === 'visible') this.stopFlashing();
  };

  /** A call from `from` rings: alert, unless the person is looking at this tab already. */
  start(from: string, video: boolean): void {
    this.stop();
    if (document.visibilityState === 'visible') return;
    this.restoreTitle = document.title;
    const loud = `📞 ${from} is calling`;
    let on = false;
    this.flashTimer = setInterval(() => {
      on = !on;
      document.title = on ? loud : this.restoreTitle;
    }, FLASH_MS);
    document.title = loud;
    document.addEventListener('visibilitychange', this.onVisible);
    if (alertsSupported() && Notification.permission === 'granted') {
      try {
        const n = new Notification(`Incoming ${video ? 'video' : 'voice'} call`, {
          body: `${from} is calling you on callwire.`,
          tag: 'callwire-incoming',
          requireInteraction: true,
        });
        n.addEventListener('click', () => {
          window.focus();
          n.close();
        });
        this.notification = n;
      } catch {
        // Some browsers allow notifications only from a service worker: the title still flashes.
      }
    }
  }

  stop(): void {
    this.stopFlashing();
    this.notification?.close();
    this.notification = null;
  }

  private stopFlashing(): void {
    document.removeEventListener('visibilitychange', this.onVisible);
    if (this.flashTimer === null) return;
    clearInterval(this.flashTimer);
    this.flashTimer = null;
    document.title = this.restoreTitle;
  }
}
