/**
 * The sign-in screen, shaped by the server's auth mode (`GET /api/config`): a name on an open
 * server, a name and a password on a password server, and on a jwt server a note that the
 * operator's own site signs people in. When the mode is unknown (an older server), the form
 * asks for a name and the password field appears when a login without one is refused.
 */
import { h, setShown } from '../dom.js';
import { icon } from '../icons.js';
import type { ServerConfig } from '../server-config.js';

export type SignInRequest = { name: string; password?: string };

export class SignInView {
  readonly root: HTMLElement;
  private readonly form: HTMLFormElement;
  private readonly nameInput: HTMLInputElement;
  private readonly passwordRow: HTMLElement;
  private readonly passwordInput: HTMLInputElement;
  private readonly error: HTMLElement;
  private readonly submit: HTMLButtonElement;

  constructor(initialName: string, config: ServerConfig, onSubmit: (req: SignInRequest) => void) {
    this.nameInput = h('input', {
      id: 'signin-name',
      name: 'name',
      type: 'text',
      autocomplete: 'username',
      autocapitalize: 'off',
      spellcheck: 'false',
      maxlength: 64,
      required: true,
      'aria-describedby': 'signin-name-hint',
      value: initialName,
    });
    this.passwordInput = h('input', {
      id: 'signin-password',
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      maxlength: 1024,
    });
    this.passwordRow = h(
      'div',
      { class: 'field', hidden: true },
      h('label', { for: 'signin-password' }, 'Password'),
      this.passwordInput,
    );
    this.error = h('p', { class: 'form-error', id: 'signin-error', role: 'alert', hidden: true });
    this.submit = h('button', { type: 'submit', class: 'button button-primary button-wide' }, 'Sign in');
    this.form = h(
      'form',
      { class: 'signin-form', novalidate: true, 'aria-labelledby': 'signin-title' },
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'signin-name' }, 'Your name'),
        this.nameInput,
        h('p', { class: 'hint', id: 'signin-name-hint' }, 'Others call you by this name.'),
      ),
      this.passwordRow,
      this.error,
      this.submit,
    );
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const name = this.nameInput.value.trim();
      if (name === '') {
        this.showError('Enter a name.');
        this.nameInput.focus();
        return;
      }
      const password = this.passwordInput.value;
      onSubmit(this.passwordShown && password !== '' ? { name, password } : { name });
    });
    const lead =
      config.auth === 'password'
        ? 'This server has accounts: sign in with the name and password you were given.'
        : 'Call anyone who is online here, with video or voice.';
    const body =
      config.auth === 'jwt'
        ? [
            h('p', { class: 'lead' }, 'People sign in to this callwire server through its own website.'),
            h(
              'p',
              { class: 'hint signin-jwt' },
              'Open callwire from the site that gave you access to calls: it signs you in here. ' +
                'There is no name or password to enter on this page.',
            ),
          ]
        : [h('p', { class: 'lead' }, lead), this.form];
    this.root = h(
      'section',
      { class: 'screen signin-screen' },
      h(
        'div',
        { class: 'card signin-card' },
        h('div', { class: 'brand' }, h('span', { class: 'brand-mark' }, icon('phone')), h('span', {}, 'callwire')),
        h('h1', { id: 'signin-title' }, 'Sign in'),
        ...body,
        h('p', { class: 'hint signin-check' }, h('a', { href: '/check' }, 'Test my connection')),
      ),
    );
    if (config.auth === 'password') this.showPassword(false);
  }

  get passwordShown(): boolean {
    return !this.passwordRow.hasAttribute('hidden');
  }

  showPassword(focus: boolean): void {
    setShown(this.passwordRow, true);
    this.passwordInput.required = true;
    if (focus) this.passwordInput.focus();
  }

  setBusy(busy: boolean): void {
    this.submit.disabled = busy;
    this.submit.textContent = busy ? 'Signing in…' : 'Sign in';
    this.form.setAttribute('aria-busy', String(busy));
  }

  /** Show a message under the form; `field` is marked invalid and described by it. */
  showError(text: string, field: 'name' | 'password' | null = 'name'): void {
    this.clearError();
    this.error.textContent = text;
    setShown(this.error, true);
    const input = field === 'name' ? this.nameInput : field === 'password' ? this.passwordInput : null;
    input?.setAttribute('aria-invalid', 'true');
    input?.setAttribute('aria-errormessage', 'signin-error');
  }

  clearError(): void {
    setShown(this.error, false);
    for (const input of [this.nameInput, this.passwordInput]) {
      input.removeAttribute('aria-invalid');
      input.removeAttribute('aria-errormessage');
    }
  }

  focus(): void {
    if (this.nameInput.value === '') this.nameInput.focus();
    else if (this.passwordShown && this.passwordInput.value === '') this.passwordInput.focus();
    else this.submit.focus();
  }

  focusName(): void {
    this.nameInput.focus();
    this.nameInput.select();
  }
}
