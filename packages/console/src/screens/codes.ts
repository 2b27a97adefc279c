import type { ConsoleContext } from '../context.js';
import { downloadCsv, toCsv } from '../csv.js';
import { formValues, h, mount } from '../dom.js';
import { formatDate, t } from '../i18n.js';
import type { CodeList, CodeView, CreateCodesResponse, PlanList, PlanView } from '../types.js';
import { badge, brandPicker, button, confirmed, field, form, section, select, submit, table, type Column } from '../ui.js';
import { planDuration } from './plans.js';

const day = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString().slice(0, 10));
const STATUS_KIND: Record<string, string> = { unused: 'ok', used: 'info', expired: 'muted', revoked: 'danger' };

/** Same columns as `kluis admin codes create --csv`, so resellers get one format. */
function mintedCsv(r: CreateCodesResponse): string {
  return toCsv(
    ['code', 'id', 'type', 'brand', 'plan', 'batch', 'expires'],
    r.codes.map((c) => [c.code, c.id, r.type, r.brand, r.planId, r.batchId, day(r.expiresAt)]),
  );
}

/**
 * Mint, list, filter, revoke, export. Freshly minted codes are shown once, in this
 * page only (the server keeps hashes): the panel stays until the admin leaves.
 */
export async function renderCodes(ctx: ConsoleContext, main: HTMLElement): Promise<void> {
  const picker = await brandPicker(ctx, () => ctx.rerender());
  main.append(picker.el);
  const brand = picker.brand;
  if (!brand) return void main.append(h('p', { class: 'empty' }, t('common.noBrands')));
  const { plans } = await ctx.api<PlanList>('listPlans', { params: { brand } });
  const planName = new Map(plans.map((p) => [p.id, p.name]));
  const open = plans.filter((p) => !p.retiredAt);

  const mintedPanel = h('div', {});
  const listBox = h('div', {});
  const filters = { status: '', type: '', batchId: '' };

  const showMinted = (r: CreateCodesResponse) => {
    mount(
      mintedPanel,
      section(
        t('codes.mintedTitle', { count: r.codes.length }),
        h('p', { class: 'notice notice-warn' }, t('codes.shownOnce')),
        h('ol', { class: 'code-list', 'data-testid': 'minted-codes' }, r.codes.map((c) => h('li', {}, h('code', {}, c.code)))),
        h(
          'div',
          { class: 'actions' },
          button(t('codes.downloadCsv'), () => downloadCsv(`kluis-${r.brand}-${r.type}-${day(Date.now())}.csv`, mintedCsv(r)), 'primary'),
          button(t('codes.showBatch'), async () => {
            filters.batchId = r.batchId;
            await refresh();
          }),
          button(
            t('codes.revokeBatch'),
            async () => {
              if (!confirmed(t('codes.confirmRevokeBatch', { count: r.codes.length }))) return;
              await revoke({ batchId: r.batchId });
            },
            'danger',
          ),
        ),
      ),
    );
  };

  const revoke = async (body: { ids?: string[]; batchId?: string }) => {
    try {
      const res = await ctx.api<{ revoked: number }>('revokeCodes', { params: { brand }, body });
      ctx.notify('ok', t('codes.revoked', { count: res.revoked }));
      await refresh();
    } catch (err) {
      ctx.fail(err);
    }
  };

  const columns: Column<CodeView>[] = [
    { label: t('codes.id'), cell: (c) => h('code', { title: c.id }, c.id.slice(0, 8)) },
    { label: t('codes.type'), cell: (c) => t(`codes.type.${c.type}`) },
    { label: t('codes.plan'), cell: (c) => (c.planId ? (planName.get(c.planId) ?? '—') : '—') },
    { label: t('codes.source'), cell: (c) => t(`codes.source.${c.source}`) },
    { label: t('common.status'), cell: (c) => badge(t(`codes.status.${c.status}`), STATUS_KIND[c.status] ?? 'muted') },
    { label: t('common.created'), cell: (c) => formatDate(c.createdAt), nowrap: true },
    { label: t('codes.expires'), cell: (c) => formatDate(c.expiresAt), nowrap: true },
    { label: t('codes.usedDay'), cell: (c) => formatDate(c.usedDay), nowrap: true },
    {
      label: t('common.actions'),
      cell: (c) =>
        c.status === 'unused'
          ? button(t('codes.revoke'), async () => {
              if (confirmed(t('codes.confirmRevoke'))) await revoke({ ids: [c.id] });
            }, 'danger')
          : '',
    },
  ];

  const refresh = async () => {
    try {
      const { codes } = await ctx.api<CodeList>('listCodes', {
        params: { brand },
        query: { status: filters.status || undefined, type: filters.type || undefined, batchId: filters.batchId || undefined, limit: '1000' },
      });
      const csv = () =>
        toCsv(
          ['id', 'type', 'status', 'source', 'plan', 'batch', 'created', 'expires', 'used'],
          codes.map((c) => [c.id, c.type, c.status, c.source, c.planId, c.batchId, day(c.createdAt), day(c.expiresAt), day(c.usedDay)]),
        );
      mount(
        listBox,
        filters.batchId
          ? h('p', { class: 'muted' }, t('codes.filteredBatch', { batch: filters.batchId.slice(0, 8) }), ' ', button(t('codes.allBatches'), async () => {
              filters.batchId = '';
              await refresh();
            }))
          : null,
        h('p', { class: 'muted', 'data-testid': 'codes-count' }, t('codes.count', { count: codes.length })),
        table(columns, codes, { testId: 'codes' }),
        codes.length ? button(t('codes.exportList'), () => downloadCsv(`kluis-${brand}-codes-${day(Date.now())}.csv`, csv())) : null,
      );
    } catch (err) {
      ctx.fail(err);
    }
  };

  const statusFilter = select('status', [
    { value: '', label: t('codes.allStatuses') },
    ...['unused', 'used', 'expired', 'revoked'].map((s) => ({ value: s, label: t(`codes.status.${s}`) })),
  ]);
  const typeFilter = select('type', [
    { value: '', label: t('codes.allTypes') },
    ...['invite', 'renewal'].map((s) => ({ value: s, label: t(`codes.type.${s}`) })),
  ]);
  statusFilter.addEventListener('change', () => void ((filters.status = statusFilter.value), refresh()));
  typeFilter.addEventListener('change', () => void ((filters.type = typeFilter.value), refresh()));

  const mintForm = open.length
    ? form(
        async (f) => {
          const v = formValues(f);
          try {
            const r = await ctx.api<CreateCodesResponse>('createCodes', {
              params: { brand },
              body: { planId: v.planId, type: v.type, count: Number(v.count), ...(v.expiresAt && { expiresAt: v.expiresAt }) },
            });
            ctx.notify('ok', t('codes.minted', { count: r.codes.length }));
            showMinted(r);
            await refresh();
            mintedPanel.scrollIntoView();
          } catch (err) {
            ctx.fail(err);
          }
        },
        h(
          'div',
          { class: 'fields' },
          field(t('codes.plan'), select('planId', open.map((p: PlanView) => ({ value: p.id, label: `${p.name} (${planDuration(p)})` })))),
          field(
            t('codes.type'),
            select('type', [
              { value: 'invite', label: t('codes.type.invite') },
              { value: 'renewal', label: t('codes.type.renewal') },
            ]),
          ),
          field(t('codes.countLabel'), h('input', { name: 'count', type: 'number', min: 1, max: 1000, required: true, value: 10 })),
          field(t('codes.expiresOptional'), h('input', { name: 'expiresAt', type: 'date' })),
        ),
        h('div', { class: 'actions' }, submit(t('codes.mint'))),
      )
    : h('p', { class: 'empty' }, t('codes.noPlans'));

  main.append(
    section(t('codes.mintTitle'), mintForm),
    mintedPanel,
    section(t('codes.listTitle', { brand }), h('div', { class: 'toolbar' }, field(t('common.status'), statusFilter), field(t('codes.type'), typeFilter)), listBox),
  );
  await refresh();
}
