import type { ConsoleContext } from '../context.js';
import { downloadCsv, toCsv } from '../csv.js';
import { h, mount } from '../dom.js';
import { formatDateTime, t } from '../i18n.js';
import type { AuditEntry, AuditList } from '../types.js';
import { brandPicker, button, field, section, table, type Column } from '../ui.js';

const PAGE = 100;

/** Who did what, when (newest first, paged backwards); exportable as CSV. */
export async function renderAudit(ctx: ConsoleContext, main: HTMLElement): Promise<void> {
  // Operators see every brand's entries unless they pick one; brand admins only theirs.
  let brand: string | undefined;
  if (ctx.isOperator) {
    const brands = await ctx.brands();
    const picker = h('select', { name: 'brand' }, h('option', { value: '' }, t('common.allBrands')), brands.map((b) => h('option', { value: b.slug }, b.name)));
    picker.addEventListener('change', () => {
      brand = picker.value || undefined;
      entries.length = 0;
      void load();
    });
    main.append(h('div', { class: 'toolbar' }, field(t('common.brand'), picker)));
  } else {
    main.append((await brandPicker(ctx, () => {})).el);
  }
  const entries: AuditEntry[] = [];
  let more = false;
  const box = h('div', {});
  const columns: Column<AuditEntry>[] = [
    { label: t('audit.at'), cell: (e) => formatDateTime(e.at), nowrap: true },
    { label: t('audit.admin'), cell: (e) => e.adminName },
    { label: t('admins.role'), cell: (e) => t(`admins.role.${e.role}`) },
    { label: t('common.brand'), cell: (e) => e.brand ?? '—' },
    { label: t('audit.action'), cell: (e) => h('code', {}, e.action) },
    { label: t('audit.target'), cell: (e) => e.target ?? '—' },
    { label: t('audit.detail'), cell: (e) => (e.detail ? h('small', { class: 'detail' }, e.detail) : '—') },
  ];
  const load = async () => {
    try {
      const before = entries.length ? String(entries[entries.length - 1]!.id) : undefined;
      const page = await ctx.api<AuditList>('listAudit', { query: { brand, before, limit: String(PAGE) } });
      entries.push(...page.entries);
      more = page.entries.length === PAGE;
      const csv = () =>
        toCsv(
          ['id', 'at', 'admin', 'role', 'brand', 'action', 'target', 'detail'],
          entries.map((e) => [e.id, new Date(e.at).toISOString(), e.adminName, e.role, e.brand, e.action, e.target, e.detail]),
        );
      mount(
        box,
        table(columns, entries, { testId: 'audit' }),
        h(
          'div',
          { class: 'actions' },
          more ? button(t('audit.older'), load) : null,
          entries.length ? button(t('audit.export'), () => downloadCsv(`kluis-audit-${new Date().toISOString().slice(0, 10)}.csv`, csv())) : null,
        ),
      );
    } catch (err) {
      ctx.fail(err);
    }
  };
  main.append(section(t('audit.title'), box));
  await load();
}
