import type { ConsoleContext } from '../context.js';
import { h } from '../dom.js';
import { formatDateTime, formatNumber, t } from '../i18n.js';
import type { AdminStats } from '../types.js';
import { button, section, table } from '../ui.js';

function tile(label: string, value: string, testId: string): HTMLElement {
  return h('div', { class: 'tile', 'data-testid': testId }, h('span', { class: 'tile-value' }, value), h('span', { class: 'tile-label' }, label));
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const hrs = Math.floor((seconds % 86_400) / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  return d > 0 ? t('dashboard.uptimeDays', { d, h: hrs }) : t('dashboard.uptimeHours', { h: hrs, m: min });
}

/** Counts only (GET /admin/stats): service-wide numbers are null for brand admins and hidden. */
export async function renderDashboard(ctx: ConsoleContext, main: HTMLElement): Promise<void> {
  const stats = await ctx.api<AdminStats>('adminStats');
  const total = (k: 'active' | 'grace' | 'suspended' | 'purged') => stats.brands.reduce((n, b) => n + b.accounts[k], 0);
  const codesUsed = stats.brands.reduce((n, b) => n + b.codesUsedThisWeek, 0);
  main.append(
    h(
      'div',
      { class: 'tiles' },
      tile(t('dashboard.health'), stats.health.status === 'ok' ? t('dashboard.healthOk') : stats.health.status, 'health'),
      tile(t('dashboard.accountsActive'), formatNumber(total('active')), 'accounts-active'),
      stats.devicesOnline !== null ? tile(t('dashboard.devicesOnline'), formatNumber(stats.devicesOnline), 'devices-online') : null,
      stats.envelopesQueued !== null ? tile(t('dashboard.envelopesQueued'), formatNumber(stats.envelopesQueued), 'envelopes-queued') : null,
      tile(t('dashboard.codesUsedThisWeek'), formatNumber(codesUsed), 'codes-used'),
    ),
    section(
      t('dashboard.byBrand'),
      table(
        [
          { label: t('common.brand'), cell: (b) => b.brand },
          { label: t('state.active'), cell: (b) => formatNumber(b.accounts.active), numeric: true },
          { label: t('state.grace'), cell: (b) => formatNumber(b.accounts.grace), numeric: true },
          { label: t('state.suspended'), cell: (b) => formatNumber(b.accounts.suspended), numeric: true },
          { label: t('state.purged'), cell: (b) => formatNumber(b.accounts.purged), numeric: true },
          { label: t('dashboard.codesUsedThisWeek'), cell: (b) => formatNumber(b.codesUsedThisWeek), numeric: true },
        ],
        stats.brands,
        { testId: 'stats-by-brand' },
      ),
    ),
    section(
      t('dashboard.server'),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, t('dashboard.health')),
        h('dd', {}, stats.health.status === 'ok' ? t('dashboard.healthOk') : stats.health.status),
        h('dt', {}, t('dashboard.uptime')),
        h('dd', {}, duration(stats.health.uptimeSeconds)),
        h('dt', {}, t('dashboard.serverTime')),
        h('dd', {}, formatDateTime(stats.health.now)),
      ),
      button(t('common.refresh'), () => ctx.rerender()),
    ),
  );
}
