/**
 * The one place screens are swapped. Moving focus to the new screen's heading (or a chosen
 * control) tells keyboard and screen-reader users that the page changed.
 */
export interface Screen {
  readonly root: HTMLElement;
  focus?(): void;
  dispose?(): void;
}

export class ScreenHost {
  private current: Screen | null = null;

  constructor(private readonly root: HTMLElement) {}

  show(screen: Screen, title: string): void {
    if (this.current === screen) return;
    this.current?.dispose?.();
    this.current = screen;
    this.root.replaceChildren(screen.root);
    document.title = title ? `${title} · callwire` : 'callwire';
    if (screen.focus) screen.focus();
    else this.root.focus();
  }

  /**
   * Take the current screen off without disposing it, for the caller to show again later (a
   * call on hold while another has the screen). The next `show` then replaces it untouched.
   */
  setAside(): Screen | null {
    const screen = this.current;
    this.current = null;
    return screen;
  }

  get screen(): Screen | null {
    return this.current;
  }

  setTitle(title: string): void {
    document.title = title ? `${title} · callwire` : 'callwire';
  }
}
