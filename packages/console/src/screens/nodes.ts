import type { ConsoleContext } from '../context.js';
import { h } from '../dom.js';
import { formatDateTime, formatNumber, t } from '../i18n.js';
import type { AdminNodeList, NodeView } from '../types.js';
import { badge, button, section, table, type Column } from '../ui.js';

const STATUS_KIND: Record<NodeView['status'], string> = { up: 'ok', draining: 'info', 'not-ready': 'warn', down: 'danger' };

/** Cluster nodes (GET /admin/nodes, operators only): regions, connections, health. */
export async function renderNodes(ctx: ConsoleContext, main: HTMLElement): Promise<void> {
  const list = await ctx.api<AdminNodeList>('adminNodes');
  const up = list.nodes.filter((n) => n.status === 'up');
  const regions = [...new Set(list.nodes.map((n) => n.region || '—'))].sort();
  const seconds = (n: NodeView) => Math.max(0, Math.round((list.now - n.heartbeatAt) / 1000));
  const columns: Column<NodeView>[] = [
    { label: t('nodes.name'), cell: (n) => h('strong', {}, n.name) },
    { label: t('nodes.region'), cell: (n) => n.region || '—' },
    { label: t('nodes.status'), cell: (n) => badge(t(`nodes.status.${n.status}`), STATUS_KIND[n.status]) },
    { label: t('nodes.connections'), cell: (n) => formatNumber(n.connections), numeric: true },
    { label: t('nodes.heartbeat'), cell: (n) => t('nodes.secondsAgo', { s: seconds(n) }), nowrap: true },
    { label: t('nodes.startedAt'), cell: (n) => formatDateTime(n.startedAt), nowrap: true },
    { label: t('nodes.url'), cell: (n) => h('code', {}, n.url) },
  ];
  main.append(
    h(
      'p',
      { class: 'muted', 'data-testid': 'nodes-summary' },
      t('nodes.summary', { up: up.length, total: list.nodes.length, regions: regions.length, connections: formatNumber(up.reduce((a, n) => a + n.connections, 0)) }),
    ),
    section(t('nodes.title'), table(columns, list.nodes, { testId: 'nodes' }), h('small', { class: 'muted' }, t('nodes.staleHint', { s: Math.round(list.staleAfterMs / 1000) }))),
    h('div', { class: 'actions' }, button(t('common.refresh'), () => ctx.rerender())),
  );
}
