/**
 * The sign-in screen: a name, and a password when the server asks for one. The server does not
 * advertise its auth mode, so the password field appears when a login without one is refused
 * with `invalid_credentials`.
 */
import { h, setShown } from '../dom.js';
import { icon } from '../icons.js';

export type SignInRequest = { name: string; password?: string };

export class SignInView {
  readonly root: HTMLElement;
  private readonly form: HTMLFormElement;
  private readonly nameInput: HTMLInputElement;
  private readonly passwordRow: HTMLElement;
  private readonly passwordInput: HTMLInputElement;
  private readonly error: HTMLElement;
  private readonly submit: HTMLButtonElement;

  constructor(initialName: string, onSubmit: (req: SignInRequest) => void) {
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
    this.root = h(
      'section',
      { class: 'screen signin-screen' },
      h(
        'div',
        { class: 'card signin-card' },
        h('div', { class: 'brand' }, h('span', { class: 'brand-mark' }, icon('phone')), h('span', {}, 'callwire')),
        h('h1', { id: 'signin-title' }, 'Sign in'),
        h('p', { class: 'lead' }, 'Call anyone who is online here, with video or voice.'),
        this.form,
      ),
    );
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
    (this.nameInput.value === '' ? this.nameInput : this.submit).focus();
  }

  focusName(): void {
    this.nameInput.focus();
    this.nameInput.select();
  }
}
