// The topic tail panel's page: where to start, which partitions, optional group; live with pause/resume; a
// virtual table of partition, offset, timestamp, key, value and headers with an expandable row (pretty JSON);
// a text filter; messages per second; export of what is shown. The page keeps at most `bufferSize` rows
// (a ring, like the host) and renders only the visible ones, so it stays flat however fast the topic is.

import '../shared/base.css';
import './tail.css';
import { errorText } from '../../src/shared/ipc';
import { RingBuffer } from '../../src/shared/ring';
import {
  applyOutcome,
  describeStart,
  rowMatches,
  TAIL_PANEL,
  TailBatch,
  TailBatchNotification,
  TailClearCommand,
  TailConfig,
  TailExportRequest,
  TailPauseRequest,
  TailResetNotification,
  TailRestartRequest,
  TailRow,
  TailStart,
  TailStatus,
  TailStatusNotification,
  TailSyncRequest,
  TailSyncResult,
} from '../../src/shared/tailProtocol';
import { formatCount, formatTime, h, icon, replace } from '../shared/dom';
import { ready, rpc } from '../shared/rpc';
import { loadState, saveState } from '../shared/state';
import { button, checkbox, dropdown, field, setButtonLabel, setChoices, textField } from '../shared/toolkit';
import { RowSource, VirtualTable } from '../shared/virtualTable';

interface PageState {
  filter: string;
  follow: boolean;
  expanded: number | null;
}

const state = loadState<PageState>({ filter: '', follow: true, expanded: null });
const app = document.getElementById('app') as HTMLElement;

let sync: TailSyncResult | undefined;
let ring = new RingBuffer<TailRow>(10000);
let lastSeq = 0;
/** Rows matching the filter, oldest first; null when there is no filter (the ring is the view). */
let view: TailRow[] | null = null;
let status: TailStatus = { state: 'starting', rate: 0, received: 0, skipped: 0 };
let config: TailConfig = { start: { kind: 'latest' } };
let chosen = new Set<number>();
const perf = { batches: 0, rows: 0, lastBatchMs: 0, maxBatchMs: 0, totalBatchMs: 0 };

// ---------------------------------------------------------------------------------------------------- table

const table = new VirtualTable<TailRow>({
  label: 'Records',
  rowHeight: 22,
  key: (r) => r.seq,
  columns: [
    { id: 'partition', title: 'Partition', width: '6.8em', className: 'num', text: (r) => String(r.partition) },
    { id: 'offset', title: 'Offset', width: '7em', className: 'num mono', text: (r) => r.offset },
    { id: 'timestamp', title: 'Time', width: '10.5em', className: 'mono', text: (r) => compactTime(r.timestamp), tooltip: (r) => `${new Date(Number(r.timestamp)).toISOString()} (${r.timestamp})` },
    { id: 'key', title: 'Key', width: 'minmax(6em, 14em)', className: 'mono', text: (r) => (r.key === null ? '∅' : oneLine(r.keyBinary ? `0x${r.key}` : r.key)) },
    { id: 'value', title: 'Value', width: 'minmax(12em, 1fr)', className: 'mono', text: (r) => valueText(r) },
    { id: 'headers', title: 'Headers', width: 'minmax(5em, 12em)', className: 'mono', text: (r) => r.headers.map(([k, v]) => `${k}=${v}`).join(', ') },
    { id: 'txn', title: 'Transaction', width: '8.2em', className: 'txn', text: (r) => txnText(r), tooltip: (r) => txnTooltip(r) },
  ],
  rowClass: (r) => (r.control ? `marker marker-${r.control.toLowerCase()}` : r.txn ? `txn-${r.txn.state}` : ''),
  detail: (r) => detail(r),
  onExpand: (key) => {
    state.expanded = key;
    saveState(state);
  },
  onFollowChange: (follow) => {
    state.follow = follow;
    saveState(state);
    renderFollow();
  },
});

const today = new Date().toDateString();

/** "14:02:11.532" today, "05-01 14:02:11.532" another day (the full time is in the tooltip and the expanded row). */
function compactTime(ms: string): string {
  const d = new Date(Number(ms));
  const time = formatTime(ms, false);
  return d.toDateString() === today ? time : `${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${time}`;
}

function oneLine(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300).replace(/\s+/g, ' ')}…` : s.replace(/\s+/g, ' ');
}

function valueText(r: TailRow): string {
  if (r.control) return `${r.control} marker`; // the producer is in the Transaction column's tooltip and the detail
  if (r.value === null) return '∅ (null)';
  return oneLine(r.valueBinary ? `0x${r.value}` : r.value);
}

/** The Transaction column: the marker's type, or what is known of the record's transaction. */
function txnText(r: TailRow): string {
  if (r.control) return r.control === 'COMMIT' ? '◆ COMMIT' : '◆ ABORT';
  return r.txn?.state ?? '';
}

function txnTooltip(r: TailRow): string {
  if (r.control) return `A transaction marker (control record): producer ${r.txn?.producerId}'s transaction on partition ${r.partition} ${r.control === 'COMMIT' ? 'committed' : 'aborted'} here.`;
  switch (r.txn?.state) {
    case 'open':
      return `Written in a transaction of producer ${r.txn.producerId} that has not ended yet (read_uncommitted shows it; read_committed consumers wait before it).`;
    case 'aborted':
      return `Written in a transaction of producer ${r.txn.producerId} that was aborted: read_committed consumers never see it.`;
    case 'committed':
      return `Written in a committed transaction of producer ${r.txn.producerId}.`;
    default:
      return 'Not written in a transaction.';
  }
}

function detail(r: TailRow): HTMLElement {
  if (r.control) {
    return h(
      'div',
      { class: 'detail' },
      h('div', { class: 'detail-meta muted', text: [`partition ${r.partition}`, `offset ${r.offset}`, new Date(Number(r.timestamp)).toISOString()].join(' · ') }),
      h('div', { text: txnTooltip(r) }),
    );
  }
  let valueBlock: HTMLElement;
  if (r.value === null) valueBlock = h('div', { class: 'muted', text: 'null (a tombstone)' });
  else if (r.json) {
    let pretty = r.value;
    try {
      pretty = JSON.stringify(JSON.parse(r.value), null, 2);
    } catch {
      /* shown as is */
    }
    valueBlock = h('pre', { class: 'value-pre json', text: pretty });
  } else valueBlock = h('pre', { class: 'value-pre', text: r.valueBinary ? `0x${r.value}` : r.value });
  const meta = [
    `partition ${r.partition}`,
    `offset ${r.offset}`,
    new Date(Number(r.timestamp)).toISOString(),
    r.valueBinary ? 'value is binary (hex)' : '',
    r.valueTruncatedFrom !== undefined ? `value cut for display (${formatCount(r.valueTruncatedFrom)} bytes)` : '',
    r.txn ? `transaction ${r.txn.state} (producer ${r.txn.producerId})` : '',
  ].filter(Boolean);
  const copy = button('Copy value', {
    appearance: 'secondary',
    icon: 'copy',
    onClick: (e) => {
      e.stopPropagation();
      void navigator.clipboard?.writeText(r.value ?? '').catch(() => undefined);
    },
  });
  return h(
    'div',
    { class: 'detail' },
    h('div', { class: 'detail-meta muted', text: meta.join(' · ') }),
    h('div', { class: 'detail-grid' }, h('span', { class: 'mk-label', text: 'Key' }), h('code', { class: 'detail-key', text: r.key === null ? '∅ (null)' : r.keyBinary ? `0x${r.key}` : r.key })),
    r.headers.length
      ? h('div', { class: 'detail-grid' }, h('span', { class: 'mk-label', text: 'Headers' }), h('ul', { class: 'detail-headers' }, ...r.headers.map(([k, v]) => h('li', {}, h('code', { text: k }), ': ', h('code', { text: v })))))
      : null,
    h('div', { class: 'detail-value-head' }, h('span', { class: 'mk-label', text: r.json ? 'Value (JSON)' : 'Value' }), copy),
    valueBlock,
  );
}

const ringSource: RowSource<TailRow> = {
  count: () => ring.length,
  at: (i) => ring.at(i) as TailRow,
  indexOfKey: (seq) => binarySearch(ring.length, (i) => (ring.at(i) as TailRow).seq, seq),
};
const viewSource: RowSource<TailRow> = {
  count: () => view?.length ?? 0,
  at: (i) => (view as TailRow[])[i],
  indexOfKey: (seq) => binarySearch(view?.length ?? 0, (i) => (view as TailRow[])[i].seq, seq),
};

function binarySearch(n: number, seqAt: (i: number) => number, seq: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = seqAt(mid);
    if (s === seq) return mid;
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------------- controls

const START_CHOICES = [
  { value: 'latest', label: 'Latest (new records)' },
  { value: 'earliest', label: 'Earliest' },
  { value: 'timestamp', label: 'At a time' },
  { value: 'offset', label: 'At an offset' },
];
const ISOLATION_CHOICES = [
  { value: 'read_committed', label: 'read_committed' },
  { value: 'read_uncommitted', label: 'read_uncommitted' },
];
const PARTITION_CHOICES = [
  { value: 'all', label: 'All partitions' },
  { value: 'some', label: 'Chosen partitions' },
];
const startDropdown = dropdown({ label: 'Start', class: 'start-choice', choices: START_CHOICES, onChange: () => renderStartValue() });
const startValue = textField({ size: 22, attrs: { 'aria-label': 'Start at' } });
const isolationDropdown = dropdown({ label: 'Isolation', class: 'isolation-choice', choices: ISOLATION_CHOICES });
isolationDropdown.title = 'read_committed: records up to the last stable offset, aborted transactions left out (what consumers do by default). read_uncommitted: everything up to the high watermark, open and aborted transactions marked.';
const partitionsDropdown = dropdown({ label: 'Partitions', choices: PARTITION_CHOICES, onChange: () => renderPartitionChoice() });
const partitionBoxes = h('div', { class: 'partition-boxes', role: 'group', attrs: { 'aria-label': 'Partitions to read' } });
const groupBox = checkbox('Read as consumer group', { onChange: () => renderGroupChoice() });
const groupField = textField({ size: 18, placeholder: 'group id', attrs: { 'aria-label': 'Group id' } });
const applyButton = button('Restart', { icon: 'debug-restart', appearance: 'secondary', onClick: () => void apply() });
const configProblem = h('div', { class: 'config-problem error-text', attrs: { 'aria-live': 'polite' } });

const pauseButton = button('Pause', { icon: 'debug-pause', onClick: () => void togglePause() });
const clearButton = button('Clear', { appearance: 'secondary', icon: 'clear-all', onClick: () => clear() });
const followButton = button('Follow newest', { appearance: 'secondary', icon: 'arrow-down', onClick: () => setFollow(!table.follow) });
const filterField = textField({ id: 'filter', placeholder: 'Filter key, value, headers', size: 30, class: 'filter', attrs: { 'aria-label': 'Filter' }, onInput: (v) => setFilter(v) });
const exportJson = button('Export JSON', { appearance: 'secondary', icon: 'json', onClick: () => void exportShown('json') });
const exportCsv = button('Export CSV', { appearance: 'secondary', icon: 'table', onClick: () => void exportShown('csv') });
const statusDot = h('span', { class: 'status-dot' });
const statusText = h('span', { class: 'status-text', attrs: { 'aria-live': 'polite' } });
const rateText = h('span', { class: 'rate mono' });
const countText = h('span', { class: 'count muted' });
const notice = h('div', { class: 'notice', attrs: { 'aria-live': 'polite' } });
const titleEl = h('h1', { text: 'Tail' });
const subtitleEl = h('span', { class: 'muted' });
const startedText = h('span', { class: 'muted started' });

function layout(): void {
  const filterIcon = icon('search');
  filterIcon.setAttribute('slot', 'start');
  filterField.appendChild(filterIcon);
  replace(
    app,
    h('header', { class: 'mk-header' }, titleEl, subtitleEl, startedText),
    h(
      'section',
      { class: 'mk-toolbar config', attrs: { 'aria-label': 'What to read' } },
      field('Start', startDropdown),
      field('At', startValue),
      field('Isolation', isolationDropdown),
      field('Partitions', partitionsDropdown),
      partitionBoxes,
      h('div', { class: 'group-choice' }, groupBox, groupField),
      applyButton,
    ),
    configProblem,
    h(
      'section',
      { class: 'mk-toolbar live', attrs: { 'aria-label': 'Live view' } },
      pauseButton,
      clearButton,
      followButton,
      filterField,
      exportJson,
      exportCsv,
      h('span', { class: 'status' }, statusDot, statusText, rateText, countText),
    ),
    notice,
    table.el,
  );
}

function renderStartValue(): void {
  const kind = startDropdown.value;
  startValue.classList.toggle('hidden', kind !== 'timestamp' && kind !== 'offset');
  (startValue.parentElement as HTMLElement | null)?.classList.toggle('hidden', kind !== 'timestamp' && kind !== 'offset');
  startValue.setAttribute('placeholder', kind === 'timestamp' ? 'ISO time, ms, or -5m' : '0');
}

function renderPartitionChoice(): void {
  const some = partitionsDropdown.value === 'some' && !groupBox.checked;
  replace(partitionBoxes);
  partitionBoxes.classList.toggle('hidden', !some);
  if (!some || !sync) return;
  for (const p of sync.allPartitions) {
    const box = checkbox(String(p), {
      checked: chosen.has(p),
      onChange: (c) => {
        if (c) chosen.add(p);
        else chosen.delete(p);
      },
    });
    partitionBoxes.appendChild(box);
  }
}

function renderGroupChoice(): void {
  groupField.classList.toggle('hidden', !groupBox.checked);
  partitionsDropdown.disabled = groupBox.checked;
  if (groupBox.checked) partitionsDropdown.title = 'A group member reads the partitions the group assigns it';
  renderPartitionChoice();
}

function showConfig(c: TailConfig): void {
  config = c;
  setChoices(startDropdown, START_CHOICES, c.start.kind);
  startValue.value = c.start.kind === 'timestamp' ? new Date(c.start.timestamp).toISOString() : c.start.kind === 'offset' ? c.start.offset : '';
  chosen = new Set(c.partitions ?? []);
  setChoices(isolationDropdown, ISOLATION_CHOICES, c.isolation ?? 'read_committed');
  setChoices(partitionsDropdown, PARTITION_CHOICES, c.partitions ? 'some' : 'all');
  groupBox.checked = c.groupId !== undefined;
  groupField.value = c.groupId ?? '';
  renderStartValue();
  renderGroupChoice();
  startedText.textContent = `${describeStart(c.start)} · ${c.partitions ? `partition${c.partitions.length > 1 ? 's' : ''} ${c.partitions.join(', ')}` : 'all partitions'}${c.groupId ? ` · as group ${c.groupId}` : ' · no group'}${c.isolation === 'read_uncommitted' ? ' · read_uncommitted' : ''}`;
}

/** Parses "2024-05-01T10:00:00Z", "1714557600000" or "-5m" (5 minutes ago). */
function parseTime(text: string): number | null {
  const t = text.trim();
  const rel = /^-(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(t);
  if (rel) return Date.now() - Number(rel[1]) * { s: 1000, m: 60000, h: 3600000, d: 86400000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  if (/^\d+$/.test(t)) return Number(t);
  const d = Date.parse(t);
  return Number.isNaN(d) ? null : d;
}

function readConfig(): TailConfig | string {
  const kind = startDropdown.value;
  let start: TailStart;
  if (kind === 'timestamp') {
    const ts = parseTime(startValue.value);
    if (ts === null) return 'the start time is not a time: use ISO 8601 (2024-05-01T10:00:00Z), milliseconds, or -5m';
    start = { kind, timestamp: ts };
  } else if (kind === 'offset') {
    const o = startValue.value.trim();
    if (!/^\d+$/.test(o)) return 'the start offset must be a whole number from 0';
    start = { kind, offset: o };
  } else start = { kind: kind === 'earliest' ? 'earliest' : 'latest' };
  const c: TailConfig = { start };
  if (isolationDropdown.value === 'read_uncommitted') c.isolation = 'read_uncommitted';
  if (groupBox.checked) {
    const g = groupField.value.trim();
    if (!g) return 'a group id is needed to read as a group';
    c.groupId = g;
  } else if (partitionsDropdown.value === 'some') {
    if (chosen.size === 0) return 'choose at least one partition';
    c.partitions = [...chosen].sort((a, b) => a - b);
  }
  return c;
}

async function apply(): Promise<void> {
  const c = readConfig();
  if (typeof c === 'string') {
    configProblem.textContent = c;
    return;
  }
  configProblem.textContent = '';
  applyButton.disabled = true;
  try {
    await rpc.request(TailRestartRequest, c);
  } catch (err) {
    configProblem.textContent = errorText(err);
  } finally {
    applyButton.disabled = false;
  }
}

async function togglePause(): Promise<void> {
  const paused = status.state !== 'paused';
  try {
    await rpc.request(TailPauseRequest, { paused });
  } catch (err) {
    notice.textContent = errorText(err);
  }
}

function clear(): void {
  rpc.send(TailClearCommand, undefined);
  ring.clear();
  if (view) view = [];
  table.setSource(view ? viewSource : ringSource);
  renderCounts();
}

function setFollow(follow: boolean): void {
  state.follow = follow;
  saveState(state);
  table.setFollow(follow);
  renderFollow();
}

function renderFollow(): void {
  followButton.classList.toggle('active', table.follow);
  followButton.setAttribute('aria-pressed', String(table.follow));
}

function setFilter(text: string): void {
  state.filter = text;
  saveState(state);
  rebuildView();
}

function rebuildView(): void {
  if (state.filter === '') view = null;
  else {
    view = [];
    for (const r of ring) if (rowMatches(r, state.filter)) view.push(r);
  }
  table.setSource(view ? viewSource : ringSource);
  renderCounts();
}

async function exportShown(format: 'json' | 'csv'): Promise<void> {
  notice.textContent = '';
  try {
    const res = await rpc.request(TailExportRequest, { format, filter: state.filter });
    notice.textContent = res.path ? `Exported ${formatCount(res.count)} record(s) to ${res.path}` : '';
  } catch (err) {
    notice.textContent = `Export failed: ${errorText(err)}`;
  }
}

// ---------------------------------------------------------------------------------------------------- data

function add(rows: TailRow[]): void {
  let removedFromSource = 0;
  for (const r of rows) {
    if (r.seq <= lastSeq) continue;
    lastSeq = r.seq;
    const evicted = ring.push(r);
    if (view) {
      if (evicted && view.length > 0 && view[0] === evicted) {
        view.shift();
        removedFromSource++;
      }
      if (rowMatches(r, state.filter)) view.push(r);
    } else if (evicted) removedFromSource++;
  }
  table.removedAtStart(removedFromSource);
  table.schedule();
}

function onBatch(batch: TailBatch): void {
  const t0 = performance.now();
  add(batch.rows);
  if (batch.outcomes?.length) {
    // Rows shown while their transaction was open take its outcome (the filter view holds the same objects).
    for (const o of batch.outcomes) applyOutcome(ring, o);
    table.schedule();
  }
  showStatus(batch.status);
  const ms = performance.now() - t0;
  perf.batches++;
  perf.rows += batch.rows.length;
  perf.lastBatchMs = ms;
  perf.totalBatchMs += ms;
  if (ms > perf.maxBatchMs) perf.maxBatchMs = ms;
}

function showStatus(s: TailStatus): void {
  status = s;
  const words: Record<TailStatus['state'], string> = { starting: 'Starting', live: 'Live', paused: 'Paused', stopped: 'Stopped', error: 'Error' };
  statusDot.className = `status-dot ${s.state}`;
  statusText.textContent = s.state === 'error' ? `Error: ${s.error ?? 'unknown'}` : words[s.state];
  statusText.classList.toggle('error-text', s.state === 'error');
  rateText.textContent = `${formatCount(s.rate)} msg/s`;
  setButtonLabel(pauseButton, s.state === 'paused' ? 'Resume' : 'Pause', s.state === 'paused' ? 'debug-continue' : 'debug-pause');
  pauseButton.disabled = s.state !== 'live' && s.state !== 'paused';
  renderCounts();
}

function renderCounts(): void {
  const held = ring.length;
  const shown = view ? `${formatCount(view.length)} match · ` : '';
  countText.textContent = `${shown}${formatCount(held)} of ${formatCount(ring.capacity)} kept · ${formatCount(status.received)} received${status.skipped ? ` · ${formatCount(status.skipped)} skipped` : ''}`;
  countText.title = 'The panel keeps the newest records up to minikafka.tail.bufferSize; older ones leave the table. "Skipped" records arrived faster than the panel was shown.';
}

function reset(c: TailConfig, s: TailStatus): void {
  ring.clear();
  if (view) view = [];
  table.setSource(view ? viewSource : ringSource);
  showConfig(c);
  showStatus(s);
}

rpc.on(TailBatchNotification, (b) => {
  if (sync) onBatch(b);
});
rpc.on(TailStatusNotification, (s) => showStatus(s));
rpc.on(TailResetNotification, ({ config: c, status: s }) => reset(c, s));

layout();
filterField.value = state.filter;
renderFollow();
ready(TAIL_PANEL, () => {
  const tstats = table.stats();
  return {
    rows: table.visibleText(),
    rowCount: view ? view.length : ring.length,
    info: {
      held: ring.length,
      capacity: ring.capacity,
      state: status.state,
      rate: status.rate,
      received: status.received,
      lastSeq,
      batches: perf.batches,
      batchRows: perf.rows,
      lastBatchMs: round(perf.lastBatchMs),
      maxBatchMs: round(perf.maxBatchMs),
      avgBatchMs: perf.batches ? round(perf.totalBatchMs / perf.batches) : 0,
      lastRenderMs: round(tstats.lastRenderMs),
      maxRenderMs: round(tstats.maxRenderMs),
      avgRenderMs: round(tstats.avgRenderMs),
      renders: tstats.renders,
      domRows: tstats.domRows,
      expanded: table.expanded,
      detailText: document.querySelector('.vt-detail')?.textContent ?? null,
      follow: table.follow,
      started: startedText.textContent,
      isolation: isolationDropdown.value,
      // How the rows in view are marked (their classes, which the CSS turns into the marker and transaction looks).
      markerRows: document.querySelectorAll('.vt-body .vt-row.marker').length,
      openRows: document.querySelectorAll('.vt-body .vt-row.txn-open').length,
      abortedRows: document.querySelectorAll('.vt-body .vt-row.txn-aborted').length,
    },
  };
});

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

void (async () => {
  try {
    const s = await rpc.request(TailSyncRequest, undefined);
    sync = s;
    ring = new RingBuffer<TailRow>(s.bufferSize);
    titleEl.textContent = `Tail ${s.topic}`;
    subtitleEl.textContent = s.clusterLabel;
    showConfig(s.config);
    lastSeq = 0;
    add(s.rows);
    rebuildView();
    showStatus(s.status);
    table.setFollow(state.follow);
    if (state.expanded !== null && ringSource.indexOfKey(state.expanded) >= 0) table.toggle(state.expanded);
    app.setAttribute('aria-busy', 'false');
  } catch (err) {
    notice.textContent = `Cannot start the tail: ${errorText(err)}`;
  }
})();

