import { h } from './dom.js';
import { t } from './i18n.js';
import type { ConsoleContext } from './context.js';

export interface Column<R> {
  label: string;
  cell(row: R): Node | string | number | Array<Node | string>;
  /** Right-aligned numbers. */
  numeric?: boolean;
  /** Dates and the like: kept on one line. */
  nowrap?: boolean;
}

function cellClass(c: { numeric?: boolean; nowrap?: boolean }): string | null {
  return [c.numeric ? 'num' : '', c.nowrap ? 'nowrap' : ''].filter(Boolean).join(' ') || null;
}

/**
 * A table that turns into labelled cards at phone width (the CSS shows each cell's
 * data-label), so nothing needs horizontal scrolling.
 */
export function table<R>(columns: Column<R>[], rows: R[], opts: { testId?: string; empty?: string } = {}): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty', 'data-testid': opts.testId }, opts.empty ?? t('common.none'));
  return h(
    'table',
    { class: 'grid', 'data-testid': opts.testId },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: cellClass(c), scope: 'col' }, c.label)))),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          {},
          columns.map((c) => {
            const v = c.cell(row);
            return h('td', { 'data-label': c.label, class: cellClass(c) }, Array.isArray(v) ? v : [v]);
          }),
        ),
      ),
    ),
  );
}

let nextId = 0;

/**
 * A labelled control; the hint is linked by aria-describedby (outside the label) so the
 * control's accessible name stays just the label, for screen readers and tests alike.
 */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `f${++nextId}`;
  control.id = id;
  const hintEl = hint ? h('small', { id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

export function section(title: string, ...children: Array<Node | null | false>): HTMLElement {
  return h('section', { class: 'card' }, h('h2', {}, title), children);
}

export function badge(text: string, kind: string): HTMLElement {
  return h('span', { class: `badge badge-${kind}` }, text);
}

export function button(label: string, onclick: () => void | Promise<void>, kind: 'primary' | 'plain' | 'danger' = 'plain'): HTMLButtonElement {
  const b = h('button', { type: 'button', class: `btn btn-${kind}` }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await onclick();
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

/** A form whose submit handler gets the form; the button is disabled while it runs. */
export function form(onsubmit: (f: HTMLFormElement) => Promise<void>, ...children: Array<Node | null | false>): HTMLFormElement {
  const f = h('form', { class: 'form' }, children);
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const submit = f.querySelector<HTMLButtonElement>('button[type=submit]');
    if (submit) submit.disabled = true;
    try {
      await onsubmit(f);
    } finally {
      if (submit) submit.disabled = false;
    }
  });
  return f;
}

export function submit(label: string): HTMLButtonElement {
  return h('button', { type: 'submit', class: 'btn btn-primary' }, label);
}

export function select(name: string, options: Array<{ value: string; label: string }>, selected?: string | null): HTMLSelectElement {
  return h(
    'select',
    { name },
    options.map((o) => h('option', { value: o.value, selected: o.value === selected }, o.label)),
  );
}

/** The brand the screen works on: a picker for operators, fixed for a brand admin. */
export async function brandPicker(ctx: ConsoleContext, onChange: (slug: string) => void): Promise<{ el: HTMLElement; brand: string | null }> {
  const brands = await ctx.brands();
  if (!ctx.isOperator) {
    ctx.selectedBrand = ctx.me.brand;
    return { el: h('p', { class: 'muted' }, t('common.brandFixed', { brand: ctx.me.brand ?? '' })), brand: ctx.me.brand };
  }
  if (!ctx.selectedBrand || !brands.some((b) => b.slug === ctx.selectedBrand)) ctx.selectedBrand = brands.find((b) => !b.retiredAt)?.slug ?? brands[0]?.slug ?? null;
  const picker = select(
    'brand',
    brands.map((b) => ({ value: b.slug, label: b.retiredAt ? `${b.name} (${b.slug}) — ${t('common.retired')}` : `${b.name} (${b.slug})` })),
    ctx.selectedBrand,
  );
  picker.addEventListener('change', () => {
    ctx.selectedBrand = picker.value;
    onChange(picker.value);
  });
  return { el: h('div', { class: 'toolbar' }, field(t('common.brand'), picker)), brand: ctx.selectedBrand };
}

export function confirmed(message: string): boolean {
  return window.confirm(message);
}
