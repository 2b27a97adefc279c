import type { ConsoleContext } from '../context.js';
import { formValues, h, mount } from '../dom.js';
import { formatDate, t } from '../i18n.js';
import type { AdminList, AdminView, CreateAdminResponse } from '../types.js';
import { badge, button, confirmed, field, form, section, select, submit, table, type Column } from '../ui.js';

/** Operator only: create tokens (shown once, stored hashed) and revoke them. */
export async function renderAdmins(ctx: ConsoleContext, main: HTMLElement): Promise<void> {
  const [brands, { admins }] = await Promise.all([ctx.brands(), ctx.api<AdminList>('listAdmins')]);
  const created = h('div', {});
  const columns: Column<AdminView>[] = [
    { label: t('admins.name'), cell: (a) => a.name },
    { label: t('admins.role'), cell: (a) => t(`admins.role.${a.role}`) },
    { label: t('common.brand'), cell: (a) => a.brand ?? t('common.allBrands') },
    { label: t('common.created'), cell: (a) => formatDate(a.createdAt), nowrap: true },
    { label: t('common.status'), cell: (a) => (a.revokedAt ? badge(t('admins.revoked'), 'muted') : badge(t('common.active'), 'ok')) },
    {
      label: t('common.actions'),
      // Revoking the token in use would lock this session out mid-way: done from another token.
      cell: (a) =>
        a.revokedAt || a.id === ctx.me.id
          ? a.id === ctx.me.id
            ? h('small', {}, t('admins.you'))
            : ''
          : button(
              t('admins.revoke'),
              async () => {
                if (!confirmed(t('admins.confirmRevoke', { name: a.name }))) return;
                try {
                  await ctx.api('revokeAdmin', { params: { adminId: a.id } });
                  ctx.notify('ok', t('admins.revokedOk', { name: a.name }));
                  ctx.rerender();
                } catch (err) {
                  ctx.fail(err);
                }
              },
              'danger',
            ),
    },
  ];
  const brandSelect = select('brand', brands.filter((b) => !b.retiredAt).map((b) => ({ value: b.slug, label: b.name })), ctx.selectedBrand);
  const roleSelect = select('role', [
    { value: 'brand-admin', label: t('admins.role.brand-admin') },
    { value: 'operator', label: t('admins.role.operator') },
  ]);
  const brandField = field(t('common.brand'), brandSelect);
  roleSelect.addEventListener('change', () => (brandField.hidden = roleSelect.value === 'operator'));

  const createForm = form(
    async (f) => {
      const v = formValues(f);
      try {
        const r = await ctx.api<CreateAdminResponse>('createAdmin', {
          body: { name: v.name, role: v.role, ...(v.role === 'brand-admin' && { brand: v.brand }) },
        });
        f.reset();
        brandField.hidden = false;
        mount(
          created,
          section(
            t('admins.createdTitle', { name: r.admin.name }),
            h('p', { class: 'notice notice-warn' }, t('admins.tokenOnce')),
            h('code', { class: 'token', 'data-testid': 'new-token' }, r.token),
          ),
        );
        ctx.notify('ok', t('admins.created', { name: r.admin.name }));
        const { admins: fresh } = await ctx.api<AdminList>('listAdmins');
        mount(list, table(columns, fresh, { testId: 'admins' }));
      } catch (err) {
        ctx.fail(err);
      }
    },
    h('div', { class: 'fields' }, field(t('admins.name'), h('input', { name: 'name', required: true, maxlength: 64 })), field(t('admins.role'), roleSelect), brandField),
    h('div', { class: 'actions' }, submit(t('admins.create'))),
  );
  const list = h('div', {}, table(columns, admins, { testId: 'admins' }));
  main.append(section(t('admins.list'), list), created, section(t('admins.createTitle'), createForm));
}
