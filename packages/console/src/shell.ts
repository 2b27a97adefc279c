import type { ConsoleContext } from './context.js';
import { h, mount } from './dom.js';
import { language, languages, setLanguage, t } from './i18n.js';
import { renderAccounts } from './screens/accounts.js';
import { renderAdmins } from './screens/admins.js';
import { renderAudit } from './screens/audit.js';
import { renderBrands } from './screens/brands.js';
import { renderCodes } from './screens/codes.js';
import { renderDashboard } from './screens/dashboard.js';
import { renderPlans } from './screens/plans.js';
import { renderNodes } from './screens/nodes.js';

type Screen = (ctx: ConsoleContext, main: HTMLElement) => Promise<void>;

/** Hash routes (#/codes): the server needs no knowledge of them, and reloads keep the screen. */
const screens: Array<{ id: string; render: Screen; operatorOnly?: boolean }> = [
  { id: 'dashboard', render: renderDashboard },
  { id: 'brands', render: renderBrands },
  { id: 'plans', render: renderPlans },
  { id: 'codes', render: renderCodes },
  { id: 'accounts', render: renderAccounts },
  // Admin tokens are the operator's alone; a brand admin never sees the screen.
  { id: 'admins', render: renderAdmins, operatorOnly: true },
  { id: 'audit', render: renderAudit },
  // Nodes span every brand: the operator's alone.
  { id: 'nodes', render: renderNodes, operatorOnly: true },
];

export function languageSwitch(onChange: () => void): HTMLElement {
  const picker = h(
    'select',
    { name: 'language', 'aria-label': t('app.language') },
    languages().map((l) => h('option', { value: l.code, selected: l.code === language() }, l.name)),
  );
  picker.addEventListener('change', () => {
    setLanguage(picker.value);
    onChange();
  });
  return picker;
}

export async function renderShell(root: HTMLElement, ctx: ConsoleContext, status: HTMLElement, signOut: () => void): Promise<void> {
  const visible = screens.filter((s) => ctx.isOperator || !s.operatorOnly);
  const id = location.hash.replace(/^#\/?/, '').split('?')[0] || 'dashboard';
  const screen = visible.find((s) => s.id === id) ?? visible[0]!;
  document.title = `${t(`nav.${screen.id}`)} · ${t('app.title')}`;
  const main = h('main', { class: 'content', id: 'main' });
  const who = ctx.isOperator ? t('app.whoOperator', { name: ctx.me.name }) : t('app.whoBrandAdmin', { name: ctx.me.name, brand: ctx.me.brand ?? '' });
  mount(
    root,
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'logo', href: '#/dashboard' }, t('app.title')),
      h('span', { class: 'who', 'data-testid': 'who' }, who),
      h('div', { class: 'top-actions' }, languageSwitch(ctx.rerender), h('button', { type: 'button', class: 'btn btn-plain', onclick: () => signOut() }, t('app.signOut'))),
    ),
    h(
      'nav',
      { class: 'tabs', 'aria-label': t('app.navigation') },
      visible.map((s) => h('a', { href: `#/${s.id}`, 'aria-current': s === screen ? 'page' : null }, t(`nav.${s.id}`))),
    ),
    status,
    main,
  );
  main.append(h('p', { class: 'muted' }, t('common.loading')));
  try {
    const body = h('div', {});
    await screen.render(ctx, body);
    mount(main, h('h1', {}, t(`nav.${screen.id}`)), body);
  } catch (err) {
    main.replaceChildren();
    ctx.fail(err);
  }
}
