import type { ConsoleContext } from '../context.js';
import { formValues, h, mount } from '../dom.js';
import { formatDate, formatNumber, t } from '../i18n.js';
import type { AccountList, AccountView } from '../types.js';
import { badge, button, confirmed, field, form, section, select, submit, table, type Column } from '../ui.js';

const STATE_KIND: Record<string, string> = { active: 'ok', grace: 'warn', suspended: 'danger', purged: 'muted' };

/** Search by username prefix; suspend, unsuspend, delete. Never contacts, groups or message metadata. */
export async function renderAccounts(ctx: ConsoleContext, main: HTMLElement): Promise<void> {
  const brands = await ctx.brands();
  const query = { q: '', brand: ctx.isOperator ? '' : (ctx.me.brand ?? ''), state: '' };
  const results = h('div', {});

  const act = async (run: () => Promise<unknown>, done: string) => {
    try {
      await run();
      ctx.notify('ok', done);
      await refresh();
    } catch (err) {
      ctx.fail(err);
    }
  };

  const columns: Column<AccountView>[] = [
    { label: t('accounts.username'), cell: (a) => h('strong', {}, a.username) },
    { label: t('common.brand'), cell: (a) => a.brand },
    {
      label: t('accounts.state'),
      cell: (a) => [badge(t(`state.${a.state}`), STATE_KIND[a.state] ?? 'muted'), a.suspendedByAdmin ? h('small', {}, ' ', t('accounts.byAdmin')) : ''],
    },
    { label: t('accounts.paidUntil'), cell: (a) => formatDate(a.paidUntil), nowrap: true },
    { label: t('accounts.graceEnds'), cell: (a) => formatDate(a.graceEndsAt), nowrap: true },
    { label: t('accounts.devices'), cell: (a) => formatNumber(a.deviceCount), numeric: true },
    { label: t('common.created'), cell: (a) => formatDate(a.createdAt), nowrap: true },
    { label: t('accounts.lastSeen'), cell: (a) => formatDate(a.lastSeenDay), nowrap: true },
    {
      label: t('common.actions'),
      cell: (a) =>
        a.state === 'purged'
          ? ''
          : h(
              'span',
              { class: 'row-actions' },
              a.suspendedByAdmin
                ? button(t('accounts.unsuspend'), () => act(() => ctx.api('unsuspendAccount', { params: { accountId: a.id } }), t('accounts.unsuspended', { username: a.username })))
                : button(t('accounts.suspend'), async () => {
                    if (!confirmed(t('accounts.confirmSuspend', { username: a.username }))) return;
                    await act(() => ctx.api('suspendAccount', { params: { accountId: a.id } }), t('accounts.suspended', { username: a.username }));
                  }),
              button(
                t('accounts.delete'),
                async () => {
                  if (!confirmed(t('accounts.confirmDelete', { username: a.username }))) return;
                  await act(() => ctx.api('deleteAccount', { params: { accountId: a.id } }), t('accounts.deleted', { username: a.username }));
                },
                'danger',
              ),
            ),
    },
  ];

  const refresh = async () => {
    try {
      const { accounts } = await ctx.api<AccountList>('listAccounts', {
        query: { q: query.q || undefined, brand: query.brand || undefined, state: query.state || undefined, limit: '200' },
      });
      mount(results, h('p', { class: 'muted' }, t('accounts.count', { count: accounts.length })), table(columns, accounts, { testId: 'accounts', empty: t('accounts.none') }));
    } catch (err) {
      ctx.fail(err);
    }
  };

  const search = form(
    async (f) => {
      const v = formValues(f);
      query.q = (v.q ?? '').trim().toLowerCase();
      if (ctx.isOperator) query.brand = v.brand ?? '';
      query.state = v.state ?? '';
      await refresh();
    },
    h(
      'div',
      { class: 'fields' },
      field(t('accounts.search'), h('input', { name: 'q', type: 'search', maxlength: 32, autocomplete: 'off', placeholder: t('accounts.searchHint') })),
      ctx.isOperator
        ? field(t('common.brand'), select('brand', [{ value: '', label: t('common.allBrands') }, ...brands.map((b) => ({ value: b.slug, label: b.name }))]))
        : null,
      field(
        t('accounts.state'),
        select('state', [{ value: '', label: t('accounts.allStates') }, ...['active', 'grace', 'suspended', 'purged'].map((s) => ({ value: s, label: t(`state.${s}`) }))]),
      ),
    ),
    h('div', { class: 'actions' }, submit(t('accounts.searchButton'))),
  );

  main.append(section(t('accounts.searchTitle'), search), section(t('accounts.results'), results));
  await refresh();
}
