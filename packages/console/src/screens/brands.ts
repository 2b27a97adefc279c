import type { ConsoleContext } from '../context.js';
import { formValues, h } from '../dom.js';
import { formatDate, t } from '../i18n.js';
import type { BrandView } from '../types.js';
import { badge, button, confirmed, field, form, section, submit, table, type Column } from '../ui.js';

/** Empty colour/logo fields mean "none" (null), so an edit can clear them. */
function brandBody(v: Record<string, string>, creating: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: v.name,
    primaryColor: v.primaryColor || null,
    accentColor: v.accentColor || null,
    logoUrl: v.logoUrl || null,
    defaultLanguage: v.defaultLanguage,
    membersMayInvite: v.membersMayInvite === 'on',
    memberInviteQuota: Number(v.memberInviteQuota),
    graceDays: Number(v.graceDays),
    retentionDays: Number(v.retentionDays),
  };
  if (creating) body.slug = v.slug;
  return body;
}

function brandForm(ctx: ConsoleContext, brand: BrandView | null): HTMLFormElement {
  const input = (name: string, value: string | number | null | undefined, attrs: Record<string, string | number | boolean> = {}) =>
    h('input', { name, value: value ?? '', ...attrs });
  return form(
    async (f) => {
      try {
        if (brand) {
          // Only what changed: the audit log then names exactly the fields an admin touched.
          const body = Object.fromEntries(
            Object.entries(brandBody(formValues(f), false)).filter(([k, v]) => brand[k as keyof BrandView] !== v),
          );
          if (Object.keys(body).length === 0) return ctx.notify('ok', t('common.unchanged'));
          await ctx.api('updateBrand', { params: { brand: brand.slug }, body });
          ctx.notify('ok', t('brands.updated', { brand: brand.slug }));
        } else {
          const v = formValues(f);
          await ctx.api('createBrand', { body: brandBody(v, true) });
          ctx.selectedBrand = v.slug ?? null;
          ctx.notify('ok', t('brands.created', { brand: v.slug ?? '' }));
        }
        ctx.rerender();
      } catch (err) {
        ctx.fail(err);
      }
    },
    h(
      'div',
      { class: 'fields' },
      brand ? null : field(t('brands.slug'), input('slug', '', { required: true, pattern: '[a-z0-9][a-z0-9\\-]{1,31}', maxlength: 32 }), t('brands.slugHint')),
      field(t('brands.name'), input('name', brand?.name, { required: true, maxlength: 64 })),
      field(t('brands.primaryColor'), input('primaryColor', brand?.primaryColor, { pattern: '#[0-9a-fA-F]{6}', placeholder: '#1d4ed8' })),
      field(t('brands.accentColor'), input('accentColor', brand?.accentColor, { pattern: '#[0-9a-fA-F]{6}', placeholder: '#f59e0b' })),
      field(t('brands.logoUrl'), input('logoUrl', brand?.logoUrl, { type: 'url', pattern: 'https://.*', maxlength: 512, placeholder: 'https://' })),
      field(t('brands.language'), input('defaultLanguage', brand?.defaultLanguage ?? 'en', { required: true, pattern: '[a-z]{2}', maxlength: 2 })),
      field(t('brands.graceDays'), input('graceDays', brand?.graceDays ?? 7, { type: 'number', min: 0, max: 365, required: true })),
      field(t('brands.retentionDays'), input('retentionDays', brand?.retentionDays ?? 30, { type: 'number', min: 1, max: 3650, required: true })),
      field(t('brands.inviteQuota'), input('memberInviteQuota', brand?.memberInviteQuota ?? 3, { type: 'number', min: 0, max: 1000, required: true })),
      h(
        'label',
        { class: 'check' },
        h('input', { type: 'checkbox', name: 'membersMayInvite', checked: brand ? brand.membersMayInvite : true }),
        t('brands.membersMayInvite'),
      ),
    ),
    h('div', { class: 'actions' }, submit(brand ? t('common.save') : t('brands.create')), brand ? button(t('common.cancel'), () => ctx.rerender()) : null),
  );
}

function swatch(color: string | null): HTMLElement | string {
  if (!color) return '—';
  const s = h('span', { class: 'swatch', title: color });
  // Set through the CSSOM, which the CSP allows (an inline style attribute it would not).
  s.style.backgroundColor = color;
  return h('span', { class: 'nowrap' }, s, ' ', color);
}

/** Operators create, edit and retire brands; a brand admin sees its own, read-only. */
export async function renderBrands(ctx: ConsoleContext, main: HTMLElement): Promise<void> {
  const brands = await ctx.brands();
  const editing = h('div', {});
  const columns: Column<BrandView>[] = [
    { label: t('brands.slug'), cell: (b: BrandView) => b.slug },
    { label: t('brands.name'), cell: (b: BrandView) => b.name },
    { label: t('brands.colors'), cell: (b: BrandView) => [swatch(b.primaryColor), ' ', swatch(b.accentColor)] },
    { label: t('brands.language'), cell: (b: BrandView) => b.defaultLanguage },
    { label: t('brands.memberInvites'), cell: (b: BrandView) => (b.membersMayInvite ? String(b.memberInviteQuota) : t('common.no')) },
    { label: t('brands.graceDays'), cell: (b: BrandView) => String(b.graceDays), numeric: true },
    { label: t('brands.retentionDays'), cell: (b: BrandView) => String(b.retentionDays), numeric: true },
    { label: t('common.created'), cell: (b: BrandView) => formatDate(b.createdAt), nowrap: true },
    { label: t('common.status'), cell: (b: BrandView) => (b.retiredAt ? badge(t('common.retired'), 'muted') : badge(t('common.active'), 'ok')) },
  ];
  if (ctx.isOperator) {
    columns.push({
      label: t('common.actions'),
      cell: (b: BrandView) =>
        b.retiredAt
          ? ''
          : h(
              'span',
              { class: 'row-actions' },
              button(t('common.edit'), () => {
                editing.replaceChildren(section(t('brands.editTitle', { brand: b.slug }), brandForm(ctx, b)));
                editing.scrollIntoView();
              }),
              button(
                t('common.retire'),
                async () => {
                  if (!confirmed(t('brands.confirmRetire', { brand: b.slug }))) return;
                  try {
                    await ctx.api('retireBrand', { params: { brand: b.slug } });
                    ctx.notify('ok', t('brands.retired', { brand: b.slug }));
                    ctx.rerender();
                  } catch (err) {
                    ctx.fail(err);
                  }
                },
                'danger',
              ),
            ),
    });
  }
  main.append(section(t('brands.list'), table(columns, brands, { testId: 'brands' })), editing);
  if (ctx.isOperator) main.append(section(t('brands.createTitle'), brandForm(ctx, null)));
}
