// The producer panel's page: a form for key, value (text or JSON), headers, partition, acks, compression and a
// count with a template; progress with cancel; results per record; recent messages to send again; a button
// that opens a tail where the records went. All data is shown with textContent (see ../shared/dom.ts).

import '../shared/base.css';
import './producer.css';
import { errorText } from '../../src/shared/ipc';
import {
  AcksSetting,
  CancelProduceCommand,
  CompressionSetting,
  ForgetRecentCommand,
  HeaderRow,
  OpenTailCommand,
  PRODUCER_PANEL,
  ProduceDoneNotification,
  ProduceForm,
  ProduceProgress,
  ProduceProgressNotification,
  ProduceRequest,
  ProducerInit,
  ProducerInitRequest,
  ProduceSummary,
  RecentChangedNotification,
  RecentMessage,
  validateForm,
} from '../../src/shared/producerProtocol';
import { expandTemplate, hasTemplate, jsonError, TEMPLATE_VARIABLES, unknownVariables } from '../../src/shared/template';
import { formatCount, formatTime, h, icon, replace } from '../shared/dom';
import { ready, rpc } from '../shared/rpc';
import { loadState, saveState } from '../shared/state';
import { button, checkbox, dropdown, field, progressBar, setChoices, textArea, textField } from '../shared/toolkit';

interface PageState {
  form: ProduceForm;
  summary: ProduceSummary | null;
}

const DEFAULT_FORM: ProduceForm = {
  key: '',
  value: '',
  valueFormat: 'text',
  headers: [],
  partition: 'auto',
  acks: 'all',
  compression: 'none',
  count: 1,
};

const state = loadState<PageState>({ form: { ...DEFAULT_FORM }, summary: null });
let init: ProducerInit | undefined;
let runningId: number | undefined;
/** The run this page asked for and awaits the reply of (its summary arrives twice: reply and notification). */
let awaitedRun: number | undefined;

const app = document.getElementById('app') as HTMLElement;

// ---------------------------------------------------------------------------------------------------- controls

const keyField = textField({ id: 'key', placeholder: 'no key', class: 'grow', onInput: (v) => update({ key: v }) });
const valueArea = textArea({ rows: 8, class: 'value-area', placeholder: 'value (text, or JSON when the format is JSON)', onInput: (v) => update({ value: v }) });
const formatDropdown = dropdown({
  label: 'Value format',
  choices: [
    { value: 'text', label: 'Text' },
    { value: 'json', label: 'JSON' },
  ],
  onChange: (v) => update({ valueFormat: v as 'text' | 'json' }),
});
const nullValueBox = checkbox('Null value (tombstone)', { onChange: (c) => update({ nullValue: c }) });
const prettyButton = button('Format JSON', { appearance: 'secondary', icon: 'json', onClick: () => formatJson() });
const valueHint = h('div', { class: 'hint', attrs: { 'aria-live': 'polite' } });

const headerList = h('div', { class: 'headers' });
const addHeaderButton = button('Add header', { appearance: 'secondary', icon: 'add', onClick: () => addHeader() });

const partitionDropdown = dropdown({ label: 'Partition', choices: [{ value: 'auto', label: 'auto (partitioner)' }], onChange: (v) => update({ partition: v === 'auto' ? 'auto' : Number(v) }) });
const acksDropdown = dropdown({
  label: 'Acks',
  choices: [
    { value: '0', label: '0 (no answer)' },
    { value: '1', label: '1 (leader)' },
    { value: 'all', label: 'all (in-sync replicas)' },
  ],
  onChange: (v) => update({ acks: v as AcksSetting }),
});
const compressionDropdown = dropdown({ label: 'Compression', choices: [{ value: 'none', label: 'none' }], onChange: (v) => update({ compression: v as CompressionSetting }) });
const countField = textField({ id: 'count', size: 8, class: 'count', onInput: (v) => update({ count: Number(v.trim()) }) });

const sendButton = button('Send', { id: 'send', icon: 'send', onClick: () => void send() });
const cancelButton = button('Cancel', { appearance: 'secondary', icon: 'debug-stop', class: 'hidden', onClick: () => cancel() });
const progress = progressBar('Sending');
const progressText = h('span', { class: 'muted progress-text', attrs: { 'aria-live': 'polite' } });
const problemsBox = h('div', { class: 'problems', attrs: { 'aria-live': 'polite' } });

const resultsSection = h('section', { class: 'results', attrs: { 'aria-label': 'Results' } });
const recentSection = h('section', { class: 'recent', attrs: { 'aria-label': 'Recent messages' } });
const titleEl = h('h1', { text: 'Produce' });
const subtitleEl = h('span', { class: 'muted' });

// ---------------------------------------------------------------------------------------------------- layout

function layout(): void {
  const templateHelp = h(
    'details',
    { class: 'template-help' },
    h('summary', { text: 'Templates for many records' }),
    h(
      'ul',
      {},
      ...TEMPLATE_VARIABLES.map((v) => h('li', {}, h('code', { text: `{{${v.name}}}` }), ` — ${v.meaning}`)),
    ),
    h('p', { class: 'muted', text: 'Used in the key, the value and header values; each record gets its own expansion.' }),
  );
  replace(
    app,
    h('header', { class: 'mk-header' }, titleEl, subtitleEl),
    h(
      'form',
      { class: 'producer-form', attrs: { 'aria-label': 'Record to send' }, on: { submit: (e) => e.preventDefault() } },
      field('Key', keyField),
      h(
        'div',
        { class: 'mk-field' },
        h('div', { class: 'value-head' }, h('label', { class: 'mk-label', text: 'Value', attrs: { for: 'value' } }), formatDropdown, prettyButton, nullValueBox),
        valueArea,
        valueHint,
      ),
      h('div', { class: 'mk-field' }, h('span', { class: 'mk-label', text: 'Headers' }), headerList, h('div', {}, addHeaderButton)),
      h('div', { class: 'mk-toolbar options' }, field('Partition', partitionDropdown), field('Acks', acksDropdown), field('Compression', compressionDropdown), field('Count', countField)),
      templateHelp,
      problemsBox,
      h('div', { class: 'mk-toolbar send-row' }, sendButton, cancelButton, progressText),
      progress.el,
    ),
    resultsSection,
    recentSection,
  );
  valueArea.id = 'value';
  progress.el.classList.add('hidden');
}

// ---------------------------------------------------------------------------------------------------- form state

function update(patch: Partial<ProduceForm>): void {
  state.form = { ...state.form, ...patch };
  saveState(state);
  validate();
}

function fillForm(form: ProduceForm): void {
  state.form = { ...DEFAULT_FORM, ...form, headers: form.headers.map((x) => ({ ...x })) };
  keyField.value = state.form.key;
  valueArea.value = state.form.value;
  formatDropdown.value = state.form.valueFormat;
  nullValueBox.checked = state.form.nullValue === true;
  acksDropdown.value = state.form.acks;
  countField.value = String(state.form.count);
  if (init) {
    setChoices(partitionDropdown, partitionChoices(init), String(state.form.partition));
    setChoices(compressionDropdown, compressionChoices(init), state.form.compression);
  }
  renderHeaders();
  saveState(state);
  validate();
}

function partitionChoices(i: ProducerInit) {
  return [{ value: 'auto', label: 'auto (partitioner)' }, ...i.partitions.map((p) => ({ value: String(p), label: `partition ${p}` }))];
}

function compressionChoices(i: ProducerInit) {
  return i.compressions.map((c) => ({ value: c.name, label: c.available ? c.name : `${c.name} (unavailable)`, disabled: !c.available, title: c.reason }));
}

function renderHeaders(): void {
  const rows = state.form.headers.map((hd, index) => {
    const name = textField({ placeholder: 'name', value: hd.name, attrs: { 'aria-label': `Header ${index + 1} name` }, onInput: (v) => setHeader(index, { name: v }) });
    const value = textField({ placeholder: 'value', value: hd.value, class: 'grow', attrs: { 'aria-label': `Header ${index + 1} value` }, onInput: (v) => setHeader(index, { value: v }) });
    const remove = button(`Remove header ${index + 1}`, { appearance: 'icon', icon: 'trash', onClick: () => removeHeader(index) });
    return h('div', { class: 'header-row' }, name, value, remove);
  });
  replace(headerList, ...rows);
  if (rows.length === 0) headerList.appendChild(h('span', { class: 'muted', text: 'No headers.' }));
}

function setHeader(index: number, patch: Partial<HeaderRow>): void {
  const headers = state.form.headers.map((x, i) => (i === index ? { ...x, ...patch } : x));
  update({ headers });
}

function addHeader(): void {
  update({ headers: [...state.form.headers, { name: '', value: '' }] });
  renderHeaders();
  const inputs = headerList.querySelectorAll<HTMLElement>('.header-row');
  (inputs[inputs.length - 1]?.firstElementChild as HTMLElement | null)?.focus();
}

function removeHeader(index: number): void {
  update({ headers: state.form.headers.filter((_, i) => i !== index) });
  renderHeaders();
}

function uuid(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : '00000000-0000-4000-8000-000000000000';
}

/** Problems shown under the form; Send is disabled while there are any. */
function problems(): string[] {
  const f = state.form;
  const out = init ? validateForm(f, init.partitions, init.maxCount) : ['loading…'];
  const unknown = [f.key, f.value, ...f.headers.map((x) => x.value)].flatMap(unknownVariables);
  if (unknown.length > 0) out.push(`unknown template variable: ${[...new Set(unknown)].map((u) => `{{${u}}}`).join(', ')}`);
  if (f.valueFormat === 'json' && !f.nullValue) {
    const sample = expandTemplate(f.value, { i: 0, count: f.count, now: Date.now(), uuid });
    const bad = jsonError(sample);
    if (bad !== null) out.push(`the value is not valid JSON${hasTemplate(f.value) ? ' (after expanding the template for record 0)' : ''}: ${bad}`);
  }
  return out;
}

function validate(): boolean {
  const list = problems();
  replace(problemsBox, ...list.filter((p) => p !== 'loading…').map((p) => h('div', { class: 'mk-message error', text: p })));
  sendButton.disabled = list.length > 0 || runningId !== undefined;
  valueArea.disabled = state.form.nullValue === true;
  prettyButton.classList.toggle('hidden', state.form.valueFormat !== 'json');
  const f = state.form;
  valueHint.textContent =
    f.count > 1 && hasTemplate(f.key + f.value + f.headers.map((x) => x.value).join(''))
      ? `Record 0 value: ${truncate(expandTemplate(f.value, { i: 0, count: f.count, now: Date.now(), uuid }), 120)}`
      : f.count > 1
        ? `${formatCount(f.count)} identical records (use {{i}} or {{uuid}} to vary them).`
        : '';
  return list.length === 0;
}

function formatJson(): void {
  try {
    const pretty = JSON.stringify(JSON.parse(state.form.value), null, 2);
    valueArea.value = pretty;
    update({ value: pretty });
  } catch (err) {
    replace(problemsBox, h('div', { class: 'mk-message error', text: `cannot format: ${errorText(err)}` }));
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

// ---------------------------------------------------------------------------------------------------- sending

async function send(form: ProduceForm = state.form): Promise<void> {
  if (runningId !== undefined || !validate()) return;
  const runId = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  runningId = runId;
  awaitedRun = runId;
  showRunning({ runId, sent: 0, failed: 0, total: form.count });
  try {
    const summary = await rpc.request(ProduceRequest, { runId, form });
    finish(summary);
  } catch (err) {
    runningId = undefined;
    showRunning(undefined);
    replace(problemsBox, h('div', { class: 'mk-message error', text: errorText(err) }));
    validate();
  } finally {
    awaitedRun = undefined;
  }
}

function cancel(): void {
  if (runningId !== undefined) rpc.send(CancelProduceCommand, { runId: runningId });
  progressText.textContent = 'Cancelling…';
}

function showRunning(p: ProduceProgress | undefined): void {
  const on = p !== undefined;
  cancelButton.classList.toggle('hidden', !on || p.total <= 1);
  progress.el.classList.toggle('hidden', !on || p.total <= 1);
  sendButton.disabled = on || problems().length > 0;
  if (!p) {
    progressText.textContent = '';
    return;
  }
  progress.set(p.sent + p.failed, p.total);
  progressText.textContent = p.total > 1 ? `${formatCount(p.sent)} of ${formatCount(p.total)} sent${p.failed ? `, ${formatCount(p.failed)} failed` : ''}` : 'Sending…';
}

function finish(summary: ProduceSummary): void {
  runningId = undefined;
  showRunning(undefined);
  state.summary = summary;
  saveState(state);
  renderSummary(summary);
  validate();
}

function renderSummary(s: ProduceSummary | null): void {
  if (!s) {
    replace(resultsSection);
    return;
  }
  const notTried = s.requested - s.sent - s.failed;
  let headline: string;
  if (s.requested === 1 && s.sent === 1) {
    const r = s.results[0];
    headline = r && r.offset !== null ? `Sent to partition ${r.partition} at offset ${r.offset}` : `Sent to partition ${r?.partition ?? '?'} (acks=0: no offset)`;
  } else {
    headline = `${formatCount(s.sent)} of ${formatCount(s.requested)} sent in ${formatCount(s.durationMs)} ms`;
    if (s.failed) headline += `, ${formatCount(s.failed)} failed`;
    if (s.cancelled) headline += ' — cancelled';
    else if (notTried > 0) headline += ` — stopped after the failure, ${formatCount(notTried)} not sent`;
  }
  const rows = s.results.map((r) =>
    h(
      'tr',
      { class: r.error ? 'failed' : '' },
      h('td', { class: 'num', text: String(r.index) }),
      h('td', { class: 'num', text: r.partition >= 0 ? String(r.partition) : '' }),
      h('td', { class: 'num mono', text: r.offset ?? (r.error ? '' : 'unknown (acks=0)') }),
      h('td', { class: r.error ? 'error-text' : 'muted', text: r.error ?? 'ok' }),
    ),
  );
  const tailButtons = s.ranges.length
    ? button(s.ranges.length === 1 ? `Open tail at offset ${s.ranges[0].first}` : 'Open tail from this send', {
        appearance: 'secondary',
        icon: 'output',
        class: 'open-tail',
        onClick: () =>
          rpc.send(
            OpenTailCommand,
            s.ranges.length === 1 ? { partitions: [s.ranges[0].partition], offset: s.ranges[0].first } : { partitions: s.ranges.map((r) => r.partition), timestamp: s.startedAt },
          ),
      })
    : null;
  replace(
    resultsSection,
    h('h2', {}, 'Result'),
    h('div', { class: `mk-message ${s.error ? 'error' : ''}`, role: 'status' }, headline, s.error ? h('div', { text: s.error }) : null),
    s.ranges.length > 1 || s.requested > 1
      ? h('div', { class: 'muted ranges', text: s.ranges.map((r) => `partition ${r.partition}: offsets ${r.first}–${r.last}`).join(' · ') })
      : null,
    tailButtons ? h('div', { class: 'mk-toolbar' }, tailButtons) : null,
    s.requested > 1 || s.failed > 0
      ? h(
          'table',
          { class: 'mk-table results-table', attrs: { 'aria-label': 'Delivery per record' } },
          h('thead', {}, h('tr', {}, h('th', { class: 'num', text: '#' }), h('th', { class: 'num', text: 'Partition' }), h('th', { class: 'num', text: 'Offset' }), h('th', { text: 'Result' }))),
          h('tbody', {}, ...rows),
        )
      : null,
    s.omitted > 0 ? h('div', { class: 'muted', text: `${formatCount(s.omitted)} more results not listed (the first and last ones are shown).` }) : null,
  );
}

// ---------------------------------------------------------------------------------------------------- recent

function renderRecent(list: RecentMessage[]): void {
  if (list.length === 0) {
    replace(recentSection);
    return;
  }
  const items = list.map((r) => {
    const f = r.form;
    const summary = `${f.key ? `key ${truncate(f.key, 30)} · ` : ''}${f.nullValue ? 'null value' : truncate(f.value.replace(/\s+/g, ' '), 80) || '(empty value)'}`;
    const meta = [f.count > 1 ? `×${formatCount(f.count)}` : '', f.partition === 'auto' ? '' : `partition ${f.partition}`, `acks ${f.acks}`, f.compression !== 'none' ? f.compression : '', f.headers.length ? `${f.headers.length} header(s)` : '']
      .filter(Boolean)
      .join(' · ');
    return h(
      'li',
      { class: 'recent-item' },
      h('div', { class: 'recent-text' }, h('span', { class: 'mono', text: summary }), h('span', { class: 'muted', text: ` ${formatTime(r.time)} · ${meta}` })),
      h(
        'div',
        { class: 'recent-actions' },
        button('Send again', { appearance: 'secondary', icon: 'debug-restart', onClick: () => void send(r.form) }),
        button('Edit', { appearance: 'icon', icon: 'edit', title: 'Put this message in the form', onClick: () => fillForm(r.form) }),
        button('Forget', { appearance: 'icon', icon: 'close', title: 'Remove from recent messages', onClick: () => rpc.send(ForgetRecentCommand, { time: r.time }) }),
      ),
    );
  });
  replace(recentSection, h('h2', { text: 'Recent messages' }), h('ul', { class: 'recent-list' }, ...items));
}

// ---------------------------------------------------------------------------------------------------- start

rpc.on(ProduceProgressNotification, (p) => {
  if (p.runId === runningId) showRunning(p);
});
rpc.on(ProduceDoneNotification, (s) => {
  // A run this page did not start (it was started before the page was hidden), or ours (the reply also comes).
  if (s.runId !== awaitedRun) finish(s);
});
rpc.on(RecentChangedNotification, (list) => {
  if (init) init.recent = list;
  renderRecent(list);
});

layout();
fillForm(state.form);
renderSummary(state.summary);
ready(PRODUCER_PANEL, () => ({
  rows: [...resultsSection.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
  rowCount: state.summary?.results.length ?? 0,
  info: {
    sendDisabled: sendButton.disabled,
    problems: problems().join('; '),
    summary: resultsSection.querySelector('[role=status]')?.textContent ?? null,
  },
}));

void (async () => {
  try {
    init = await rpc.request(ProducerInitRequest, undefined);
  } catch (err) {
    replace(problemsBox, h('div', { class: 'mk-message error' }, icon('error'), ` Cannot load the topic: ${errorText(err)}`));
    return;
  }
  titleEl.textContent = `Produce to ${init.topic}`;
  subtitleEl.textContent = init.clusterLabel;
  if (init.initialPartition !== undefined) state.form.partition = init.initialPartition;
  if (typeof state.form.partition === 'number' && !init.partitions.includes(state.form.partition)) state.form.partition = 'auto';
  if (!init.compressions.find((c) => c.name === state.form.compression)?.available) state.form.compression = 'none';
  fillForm(state.form);
  renderRecent(init.recent);
  if (init.lastSummary && (!state.summary || init.lastSummary.runId !== state.summary.runId)) finish(init.lastSummary);
  if (init.running) {
    runningId = init.running.runId;
    showRunning(init.running);
  }
  app.setAttribute('aria-busy', 'false');
})();

