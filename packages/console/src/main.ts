import './styles.css';
import { ApiError, createApi } from './api.js';
import type { ConsoleContext } from './context.js';
import { h, mount } from './dom.js';
import { language, setLanguage, t } from './i18n.js';
import { clearToken, loadToken, saveToken } from './session.js';
import { renderShell } from './shell.js';
import { renderSignIn } from './screens/sign-in.js';
import type { AdminMe, BrandList } from './types.js';

const root = document.getElementById('app')!;
setLanguage(language());

/** Signs in with the stored token if there is one, else shows the sign-in screen. */
async function start(): Promise<void> {
  const token = loadToken();
  if (!token) return showSignIn();
  try {
    const me = await createApi(token)<AdminMe>('adminMe');
    showConsole(token, me);
  } catch (err) {
    // Only a refused token is forgotten; a server that is down keeps it for a reload.
    const refused = err instanceof ApiError && err.status === 401;
    if (refused) clearToken();
    showSignIn(refused ? t('signIn.rejected') : t('error.network'));
  }
}

function showSignIn(error?: string): void {
  document.title = t('app.title');
  renderSignIn(root, {
    error,
    async onSubmit(token) {
      try {
        const me = await createApi(token)<AdminMe>('adminMe');
        saveToken(token);
        // replaceState fires no hashchange, so the console renders once.
        history.replaceState(null, '', '#/dashboard');
        showConsole(token, me);
      } catch (err) {
        showSignIn(err instanceof ApiError && err.status === 401 ? t('signIn.rejected') : t('error.network'));
      }
    },
    onLanguage: () => showSignIn(error),
  });
}

function showConsole(token: string, me: AdminMe): void {
  const signOut = (reason?: string) => {
    clearToken();
    // Detach first: nothing may render the console again with the old token.
    window.onhashchange = null;
    history.replaceState(null, '', location.pathname);
    showSignIn(reason);
  };
  const api = createApi(token, () => signOut(t('signIn.expired')));
  let brandCache: Promise<BrandList> | null = null;
  const status = h('div', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const ctx: ConsoleContext = {
    api,
    me,
    isOperator: me.role === 'operator',
    selectedBrand: me.brand,
    brands: async () => (await (brandCache ??= api<BrandList>('listBrands'))).brands,
    notify(kind, text) {
      mount(status, h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : null }, text));
    },
    fail(err) {
      if (err instanceof ApiError) ctx.notify('error', err.status === 0 ? t('error.network') : t('error.api', { status: err.status, message: err.message }));
      else ctx.notify('error', String(err));
    },
    // After an action: keep the notice that reports it.
    rerender: () => void render(false),
  };
  const render = async (clearStatus: boolean) => {
    brandCache = null;
    if (clearStatus) status.replaceChildren();
    await renderShell(root, ctx, status, signOut);
  };
  window.onhashchange = () => void render(true);
  void render(true);
}

void start();
