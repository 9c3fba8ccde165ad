/**
 * Verified calls in the call screen (issue 11): a shield button in the top bar that opens the
 * safety code, large enough to read aloud, with "Mark as verified"; and a warning that cannot
 * be missed when the peer's device key changed.
 *
 * The peer's sound and picture are held until the SDK knows the verification state, so that a
 * key-changed warning comes before anything of the call is seen or heard. With a changed key
 * they stay held until the person chooses: compare the code (which needs the sound: the code is
 * read aloud), go on without comparing, or hang up.
 */
import type { Call, VerificationState } from '@callwire/client';
import { Disposer, h, setShown } from '../dom.js';
import { icon } from '../icons.js';

export type VerifyPanelOptions = {
  peer: () => string;
  /** The hold on the peer's media began or ended: apply it to the remote media element. */
  onHoldChanged: () => void;
  onHangup: () => void;
};

const SHORT: Record<VerificationState, string> = {
  pending: 'Checking',
  unverified: 'Not verified',
  verified: 'Verified',
  key_changed: 'Key changed',
};

export class VerifyPanel {
  /** The shield in the call's top bar. */
  readonly button: HTMLButtonElement;
  /** The panel the shield opens. */
  readonly panel: HTMLElement;
  /** The key-changed warning over the stage. */
  readonly warning: HTMLElement;
  private readonly disposer = new Disposer();
  private readonly buttonText: HTMLElement;
  private readonly code: HTMLElement;
  private readonly stateText: HTMLElement;
  private readonly markButton: HTMLButtonElement;
  private readonly warningTitle: HTMLElement;
  private readonly warningText: HTMLElement;
  private readonly panelTitle: HTMLElement;
  private call: Call | null = null;
  /** The person answered the key-changed warning (for this connection's check). */
  private acknowledged = false;
  private held = true;

  constructor(private readonly opts: VerifyPanelOptions) {
    this.buttonText = h('span', { class: 'verify-button-text' }, SHORT.pending);
    this.button = h(
      'button',
      {
        type: 'button',
        class: 'verify-button',
        'data-verification': 'pending',
        'aria-expanded': 'false',
        'aria-controls': 'verify-panel',
        onclick: () => this.toggle(),
      },
      icon('shield'),
      this.buttonText,
    );
    this.panelTitle = h(
      'h2',
      { id: 'verify-title', class: 'verify-title', tabindex: '-1' },
      'Safety code',
    );
    this.code = h('p', { class: 'verify-code', 'aria-describedby': 'verify-state' }, '…');
    this.stateText = h('p', { class: 'verify-state', id: 'verify-state' });
    this.markButton = h(
      'button',
      { type: 'button', class: 'button button-primary', onclick: () => void this.mark() },
      'Mark as verified',
    );
    this.panel = h(
      'div',
      {
        class: 'verify-panel',
        id: 'verify-panel',
        role: 'dialog',
        'aria-labelledby': 'verify-title',
        hidden: true,
      },
      h(
        'div',
        { class: 'verify-head' },
        this.panelTitle,
        h(
          'button',
          {
            type: 'button',
            class: 'icon-button',
            'aria-label': 'Close safety code',
            onclick: () => this.toggle(false),
          },
          icon('close'),
        ),
      ),
      this.code,
      this.stateText,
      this.markButton,
    );
    this.disposer.listen(this.panel, 'keydown', (event: KeyboardEvent) => {
      if (event.key === 'Escape') this.toggle(false);
    });
    this.warningTitle = h('h2', { id: 'verify-warning-title' });
    this.warningText = h('p', { id: 'verify-warning-text' });
    this.warning = h(
      'div',
      {
        class: 'verify-warning',
        role: 'alertdialog',
        'aria-labelledby': 'verify-warning-title',
        'aria-describedby': 'verify-warning-text',
        hidden: true,
      },
      icon('warning', 'icon verify-warning-icon'),
      this.warningTitle,
      this.warningText,
      h(
        'div',
        { class: 'verify-warning-actions' },
        h(
          'button',
          { type: 'button', class: 'button button-primary', onclick: () => this.compareAgain() },
          'Compare the code again',
        ),
        h(
          'button',
          { type: 'button', class: 'button button-secondary', onclick: () => this.acknowledge() },
          'Continue without comparing',
        ),
        h(
          'button',
          { type: 'button', class: 'button button-danger', onclick: () => this.opts.onHangup() },
          'Hang up',
        ),
      ),
    );
  }

  /** True while the peer's media must not play (state unknown, or a changed key unanswered). */
  get holdsMedia(): boolean {
    return this.held;
  }

  attach(call: Call): void {
    this.call = call;
    this.disposer.add(
      call.on('verificationChanged', (state) => {
        if (state === 'pending') this.acknowledged = false;
        this.render();
      }),
    );
    this.render();
  }

  /** The call ended: nothing here applies any more. */
  end(): void {
    this.toggle(false);
    setShown(this.warning, false);
    setShown(this.button, false);
  }

  dispose(): void {
    this.disposer.dispose();
  }

  private render(): void {
    const call = this.call;
    if (call === null) return;
    const state = call.verification;
    const peer = this.opts.peer();
    this.button.dataset.verification = state;
    this.buttonText.textContent = SHORT[state];
    this.button.setAttribute('aria-label', `Safety code: ${SHORT[state].toLowerCase()}`);
    this.code.textContent = call.safetyCode ?? '…';
    this.stateText.textContent = explain(state, peer, call.safetyCode !== null);
    setShown(
      this.markButton,
      call.safetyCode !== null && state !== 'verified' && state !== 'pending',
    );

    const warn = state === 'key_changed' && !this.acknowledged;
    if (warn && this.warning.hidden) {
      this.warningTitle.textContent = `${peer}'s device key changed`;
      this.warningText.textContent =
        `This call comes from a device of ${peer} that you have not verified. They may use a new device or ` +
        `browser, or someone may be listening in. Their sound and video are held until you choose. ` +
        `Compare the safety code with ${peer} before you trust the call.`;
      setShown(this.warning, true);
      this.warning.querySelector<HTMLButtonElement>('.button-primary')?.focus();
    } else if (!warn) {
      setShown(this.warning, false);
    }
    this.setHeld(state === 'pending' || warn);
  }

  private setHeld(held: boolean): void {
    if (this.held === held) return;
    this.held = held;
    this.opts.onHoldChanged();
  }

  private toggle(open = this.panel.hidden): void {
    setShown(this.panel, open);
    this.button.setAttribute('aria-expanded', String(open));
    if (open) this.panelTitle.focus();
  }

  private compareAgain(): void {
    this.acknowledge();
    this.toggle(true);
  }

  private acknowledge(): void {
    this.acknowledged = true;
    this.render();
  }

  private async mark(): Promise<void> {
    try {
      await this.call?.markVerified();
    } catch {
      // The code went away (the connection restarted): the panel shows the new state.
    }
    this.render();
  }
}

function explain(state: VerificationState, peer: string, hasCode: boolean): string {
  switch (state) {
    case 'pending':
      return 'Checking the keys of this call…';
    case 'unverified':
      return hasCode
        ? `Not verified. Read the code aloud with ${peer}. If you both see the same code, nobody is listening in: mark the call as verified.`
        : `Not verified. Waiting for ${peer}'s app to agree on a code…`;
    case 'verified':
      return `Verified. This is the device of ${peer} that you compared the code with.`;
    case 'key_changed':
      return hasCode
        ? `${peer}'s device key changed. Read the code aloud with ${peer}; mark the call as verified only if you both see the same code.`
        : `${peer}'s device key changed. Waiting for a code to compare…`;
  }
}
