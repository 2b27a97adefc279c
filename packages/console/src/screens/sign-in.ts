import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { languageSwitch } from '../shell.js';
import { field, form, submit } from '../ui.js';

export interface SignInOptions {
  error?: string;
  onSubmit(token: string): Promise<void>;
  onLanguage(): void;
}

/** Token sign-in: the token is checked with GET /admin/me before it is kept (sessionStorage). */
export function renderSignIn(root: HTMLElement, opts: SignInOptions): void {
  const input = h('input', { type: 'password', name: 'token', required: true, autocomplete: 'off', spellcheck: 'false', autofocus: true });
  mount(
    root,
    h(
      'main',
      { class: 'sign-in' },
      h('div', { class: 'sign-in-top' }, languageSwitch(opts.onLanguage)),
      h('h1', {}, t('app.title')),
      h('p', { class: 'muted' }, t('signIn.intro')),
      opts.error ? h('p', { class: 'notice notice-error', role: 'alert' }, opts.error) : null,
      form(
        async () => opts.onSubmit(input.value.trim()),
        field(t('signIn.token'), input, t('signIn.tokenHint')),
        submit(t('signIn.submit')),
      ),
    ),
  );
  input.focus();
}
