import type { ConsoleContext } from '../context.js';
import { formValues, h } from '../dom.js';
import { formatDate, formatPrice, t } from '../i18n.js';
import { centsToInput, parsePrice } from '../money.js';
import type { PlanList, PlanView } from '../types.js';
import { badge, brandPicker, button, confirmed, field, form, section, select, submit, table, type Column } from '../ui.js';

export function planDuration(p: Pick<PlanView, 'durationCount' | 'durationUnit'>): string {
  return t(p.durationUnit === 'months' ? 'plans.months' : 'plans.days', { n: p.durationCount });
}

function planForm(ctx: ConsoleContext, brand: string, plan: PlanView | null): HTMLFormElement {
  return form(
    async (f) => {
      const v = formValues(f);
      const priceCents = parsePrice(v.price ?? '');
      if (priceCents === undefined) return ctx.notify('error', t('plans.badPrice'));
      try {
        if (plan) {
          await ctx.api('updatePlan', { params: { brand, planId: plan.id }, body: { name: v.name, priceCents, currency: v.currency } });
          ctx.notify('ok', t('plans.updated', { plan: v.name ?? '' }));
        } else {
          await ctx.api('createPlan', {
            params: { brand },
            body: { name: v.name, durationUnit: v.durationUnit, durationCount: Number(v.durationCount), priceCents, currency: v.currency },
          });
          ctx.notify('ok', t('plans.created', { plan: v.name ?? '', brand }));
        }
        ctx.rerender();
      } catch (err) {
        ctx.fail(err);
      }
    },
    h(
      'div',
      { class: 'fields' },
      field(t('plans.name'), h('input', { name: 'name', required: true, maxlength: 64, value: plan?.name ?? '' })),
      // A plan's length is fixed once codes exist for it: only name and price change.
      plan
        ? null
        : field(t('plans.durationCount'), h('input', { name: 'durationCount', type: 'number', min: 1, max: 3650, required: true, value: 6 })),
      plan
        ? null
        : field(
            t('plans.durationUnit'),
            select('durationUnit', [
              { value: 'months', label: t('plans.unitMonths') },
              { value: 'days', label: t('plans.unitDays') },
            ]),
          ),
      field(t('plans.price'), h('input', { name: 'price', required: true, inputmode: 'decimal', value: plan ? centsToInput(plan.priceCents) : '' }), t('plans.priceHint')),
      field(t('plans.currency'), h('input', { name: 'currency', required: true, pattern: '[A-Z]{3}', maxlength: 3, value: plan?.currency ?? 'EUR' })),
    ),
    h('div', { class: 'actions' }, submit(plan ? t('common.save') : t('plans.create')), plan ? button(t('common.cancel'), () => ctx.rerender()) : null),
  );
}

/** A brand's plans: create, rename/reprice, retire (no new codes; subscriptions untouched). */
export async function renderPlans(ctx: ConsoleContext, main: HTMLElement): Promise<void> {
  const picker = await brandPicker(ctx, () => ctx.rerender());
  main.append(picker.el);
  const brand = picker.brand;
  if (!brand) return void main.append(h('p', { class: 'empty' }, t('common.noBrands')));
  const { plans } = await ctx.api<PlanList>('listPlans', { params: { brand } });
  const editing = h('div', {});
  const columns: Column<PlanView>[] = [
    { label: t('plans.name'), cell: (p) => p.name },
    { label: t('plans.duration'), cell: (p) => planDuration(p) },
    { label: t('plans.price'), cell: (p) => formatPrice(p.priceCents, p.currency), numeric: true },
    { label: t('common.created'), cell: (p) => formatDate(p.createdAt), nowrap: true },
    { label: t('common.status'), cell: (p) => (p.retiredAt ? badge(t('common.retired'), 'muted') : badge(t('common.active'), 'ok')) },
    {
      label: t('common.actions'),
      cell: (p) =>
        p.retiredAt
          ? ''
          : h(
              'span',
              { class: 'row-actions' },
              button(t('common.edit'), () => {
                editing.replaceChildren(section(t('plans.editTitle', { plan: p.name }), planForm(ctx, brand, p)));
                editing.scrollIntoView();
              }),
              button(
                t('common.retire'),
                async () => {
                  if (!confirmed(t('plans.confirmRetire', { plan: p.name }))) return;
                  try {
                    await ctx.api('retirePlan', { params: { brand, planId: p.id } });
                    ctx.notify('ok', t('plans.retired', { plan: p.name }));
                    ctx.rerender();
                  } catch (err) {
                    ctx.fail(err);
                  }
                },
                'danger',
              ),
            ),
    },
  ];
  main.append(section(t('plans.list', { brand }), table(columns, plans, { testId: 'plans' })), editing, section(t('plans.createTitle'), planForm(ctx, brand, null)));
}
