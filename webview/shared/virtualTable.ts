// A table that renders only the rows in view (plus a few), whatever the number of rows: the DOM holds about
// two screens of row elements, reused as the user scrolls. Rows have one fixed height; one row at a time can
// be expanded, showing a detail element of any height below it. Cells get text only (textContent).
//
// Scroll model: row i starts at i * H, plus the expanded detail's height D for rows after the expanded one.

import { h, replace } from './dom';

export interface Column<T> {
  id: string;
  title: string;
  /** CSS grid track, e.g. "6em" or "minmax(120px, 1fr)". */
  width: string;
  text(row: T): string;
  className?: string;
  /** Full text for the tooltip (defaults to the cell text, cut at 500 characters). */
  tooltip?(row: T): string;
}

export interface RowSource<T> {
  count(): number;
  at(index: number): T;
  /** Index of the row with this key, or -1. */
  indexOfKey(key: number): number;
}

export interface VirtualTableOptions<T> {
  columns: Column<T>[];
  rowHeight: number;
  key(row: T): number;
  detail(row: T): HTMLElement;
  /** Extra classes of a row's element (e.g. how it should stand out); a change re-renders the row. */
  rowClass?(row: T): string;
  label: string;
  onExpand?(key: number | null): void;
  /** Called when following (stuck to the newest row) turns on or off by scrolling. */
  onFollowChange?(follow: boolean): void;
}

const OVERSCAN = 8;

export class VirtualTable<T> {
  readonly el: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly body: HTMLElement;
  private readonly pool: HTMLElement[] = [];
  private detailEl: HTMLElement | null = null;
  private detailHeight = 0;
  private source: RowSource<T> = { count: () => 0, at: () => undefined as unknown as T, indexOfKey: () => -1 };
  private scheduled = false;
  private expandedKey: number | null = null;
  private following = true;
  private lastRenderMs = 0;
  private maxRenderMs = 0;
  private totalRenderMs = 0;
  private renders = 0;
  private programmaticScroll = false;

  constructor(private readonly options: VirtualTableOptions<T>) {
    const template = options.columns.map((c) => c.width).join(' ');
    const header = h('div', { class: 'vt-row vt-header', role: 'row' }, ...options.columns.map((c) => h('div', { class: `vt-cell ${c.className ?? ''}`, role: 'columnheader', text: c.title })));
    this.body = h('div', { class: 'vt-body', role: 'rowgroup' });
    this.spacer = h('div', { class: 'vt-spacer' }, this.body);
    this.viewport = h('div', { class: 'vt-viewport', attrs: { tabindex: '-1' } }, this.spacer);
    this.el = h('div', { class: 'vt', role: 'grid', attrs: { 'aria-label': options.label, 'aria-rowcount': '0' } }, h('div', { role: 'rowgroup', class: 'vt-head' }, header), this.viewport);
    // CSSOM, not a style attribute: allowed by the panel's CSP.
    this.el.style.setProperty('--vt-columns', template);
    this.el.style.setProperty('--vt-row-height', `${options.rowHeight}px`);
    this.viewport.addEventListener('scroll', () => {
      if (!this.programmaticScroll) {
        const atEnd = this.viewport.scrollTop + this.viewport.clientHeight >= this.viewport.scrollHeight - this.options.rowHeight / 2;
        if (atEnd !== this.following) {
          this.following = atEnd;
          this.options.onFollowChange?.(atEnd);
        }
      }
      this.programmaticScroll = false;
      this.schedule();
    });
    this.body.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.vt-row[data-key]');
      if (row && !(e.target as HTMLElement).closest('.vt-detail')) this.toggle(Number(row.dataset.key));
    });
    this.body.addEventListener('keydown', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.vt-row[data-key]');
      if (!row) return;
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        this.toggle(Number(row.dataset.key));
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const sibling = (e.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling) as HTMLElement | null;
        const next = sibling?.classList.contains('vt-detail') ? ((e.key === 'ArrowDown' ? sibling.nextElementSibling : sibling.previousElementSibling) as HTMLElement | null) : sibling;
        next?.focus();
      }
    });
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
  }

  get follow(): boolean {
    return this.following;
  }

  /** Sticks to the newest row (true) or stays where the user scrolled (false). */
  setFollow(follow: boolean): void {
    this.following = follow;
    if (follow) this.schedule();
  }

  get expanded(): number | null {
    return this.expandedKey;
  }

  setSource(source: RowSource<T>): void {
    this.source = source;
    this.schedule();
  }

  /** Rows left the start of the source (the buffer is full): keep what the user looks at in place. */
  removedAtStart(n: number): void {
    if (n <= 0 || this.following) return;
    this.programmaticScroll = true;
    this.viewport.scrollTop = Math.max(0, this.viewport.scrollTop - n * this.options.rowHeight);
  }

  toggle(key: number | null): void {
    this.expandedKey = this.expandedKey === key ? null : key;
    this.detailEl = null;
    this.detailHeight = 0;
    this.options.onExpand?.(this.expandedKey);
    this.schedule();
  }

  /** Re-renders at the next frame (coalesces any number of calls). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  /** Render figures for the probe and the benchmark. */
  stats(): { lastRenderMs: number; maxRenderMs: number; avgRenderMs: number; renders: number; domRows: number } {
    return {
      lastRenderMs: this.lastRenderMs,
      maxRenderMs: this.maxRenderMs,
      avgRenderMs: this.renders ? this.totalRenderMs / this.renders : 0,
      renders: this.renders,
      domRows: this.body.childElementCount,
    };
  }

  /** Text of the rendered rows (for the probe). */
  visibleText(): string[][] {
    return [...this.body.querySelectorAll<HTMLElement>('.vt-row[data-key]')].map((r) => [...r.children].map((c) => c.textContent ?? ''));
  }

  render(): void {
    const t0 = performance.now();
    const H = this.options.rowHeight;
    const count = this.source.count();
    const expandedIndex = this.expandedKey === null ? -1 : this.source.indexOfKey(this.expandedKey);
    if (this.expandedKey !== null && expandedIndex < 0) {
      // The expanded row left the buffer (or the filter).
      this.expandedKey = null;
      this.detailEl = null;
      this.detailHeight = 0;
    }
    const D = expandedIndex >= 0 ? this.detailHeight : 0;
    const total = count * H + D;
    this.spacer.style.height = `${total}px`;
    this.el.setAttribute('aria-rowcount', String(count));
    const viewHeight = this.viewport.clientHeight || 400;
    if (this.following) {
      const top = Math.max(0, total - viewHeight);
      if (Math.abs(this.viewport.scrollTop - top) > 1) {
        this.programmaticScroll = true;
        this.viewport.scrollTop = top;
      }
    }
    const scrollTop = this.viewport.scrollTop;
    const indexAt = (y: number) => {
      if (expandedIndex < 0 || y < (expandedIndex + 1) * H) return Math.floor(y / H);
      if (y < (expandedIndex + 1) * H + D) return expandedIndex;
      return Math.floor((y - D) / H);
    };
    const first = Math.max(0, indexAt(scrollTop) - OVERSCAN);
    const last = Math.min(count - 1, indexAt(scrollTop + viewHeight) + OVERSCAN);
    const offset = first * H + (expandedIndex >= 0 && first > expandedIndex ? D : 0);
    this.body.style.transform = `translateY(${offset}px)`;

    const focusedKey = (document.activeElement as HTMLElement | null)?.closest?.('.vt-row[data-key]')?.getAttribute('data-key');
    const wanted: HTMLElement[] = [];
    let used = 0;
    for (let i = first; i <= last; i++) {
      const row = this.source.at(i);
      const el = this.pool[used] ?? this.newRow();
      this.pool[used++] = el;
      this.fill(el, row, i);
      wanted.push(el);
      if (i === expandedIndex) {
        if (!this.detailEl) {
          this.detailEl = h('div', { class: 'vt-detail', role: 'row' }, h('div', { role: 'gridcell', class: 'vt-detail-cell' }, this.options.detail(row)));
        }
        wanted.push(this.detailEl);
      }
    }
    // Reconcile children in order without rebuilding rows that stay.
    let cursor = this.body.firstChild;
    for (const el of wanted) {
      if (cursor === el) {
        cursor = cursor.nextSibling;
      } else {
        this.body.insertBefore(el, cursor);
      }
    }
    while (cursor) {
      const next = cursor.nextSibling;
      this.body.removeChild(cursor);
      cursor = next;
    }
    if (this.detailEl && this.detailEl.isConnected) {
      const measured = this.detailEl.offsetHeight;
      if (measured !== this.detailHeight) {
        this.detailHeight = measured;
        this.schedule();
      }
    }
    if (focusedKey) (this.body.querySelector(`.vt-row[data-key="${CSS.escape(focusedKey)}"]`) as HTMLElement | null)?.focus({ preventScroll: true });
    this.lastRenderMs = performance.now() - t0;
    this.totalRenderMs += this.lastRenderMs;
    if (this.lastRenderMs > this.maxRenderMs) this.maxRenderMs = this.lastRenderMs;
    this.renders++;
  }

  private newRow(): HTMLElement {
    const el = h('div', { class: 'vt-row', role: 'row', attrs: { tabindex: '0' } });
    for (const c of this.options.columns) el.appendChild(h('div', { class: `vt-cell ${c.className ?? ''}`, role: 'gridcell' }));
    return el;
  }

  private fill(el: HTMLElement, row: T, index: number): void {
    const key = String(this.options.key(row));
    const expanded = this.expandedKey !== null && key === String(this.expandedKey);
    el.setAttribute('aria-rowindex', String(index + 1));
    const rowClass = this.options.rowClass?.(row) ?? '';
    if (el.dataset.key === key && el.dataset.expanded === String(expanded) && (el.dataset.rowClass ?? '') === rowClass) return;
    if (el.dataset.rowClass) el.classList.remove(...el.dataset.rowClass.split(' ').filter(Boolean));
    if (rowClass) el.classList.add(...rowClass.split(' ').filter(Boolean));
    el.dataset.rowClass = rowClass;
    el.dataset.key = key;
    el.dataset.expanded = String(expanded);
    el.setAttribute('aria-expanded', String(expanded));
    el.classList.toggle('expanded', expanded);
    const cells = el.children;
    this.options.columns.forEach((c, i) => {
      const cell = cells[i] as HTMLElement;
      const text = c.text(row);
      cell.textContent = text;
      const title = c.tooltip ? c.tooltip(row) : text;
      cell.title = title.length > 500 ? `${title.slice(0, 500)}…` : title;
    });
  }

  /** Drops every row element (e.g. when the columns' meaning changed). */
  reset(): void {
    replace(this.body);
    this.pool.length = 0;
    this.detailEl = null;
    this.detailHeight = 0;
    this.schedule();
  }
}
