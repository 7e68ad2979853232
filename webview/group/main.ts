// The consumer group panel's page: state, members and their partitions, committed/end offsets and lag per
// partition (updated about every second), a lag-over-time chart (inline SVG), a timeline of rebalances and of
// leader/ISR changes on the group's partitions, and "consume as a new member".

import '../shared/base.css';
import './group.css';
import {
  GROUP_PANEL,
  GroupSnapshot,
  GroupSyncRequest,
  GroupSyncResult,
  GroupTimelineNotification,
  GroupUpdateNotification,
  JoinGroupRequest,
  LAG_HISTORY,
  LagSample,
  LeaveGroupRequest,
  OwnMemberView,
  TimelineEntry,
  TimelineKind,
  TIMELINE_LIMIT,
} from '../../src/shared/groupProtocol';
import { errorText } from '../../src/shared/ipc';
import { formatCount, formatTime, h, icon, replace, svg } from '../shared/dom';
import { ready, rpc } from '../shared/rpc';
import { loadState, saveState } from '../shared/state';
import { badge, button, dropdown, field, setChoices, spinner } from '../shared/toolkit';

interface PageState {
  windowMinutes: number;
  joinTopic: string;
  joinFrom: 'earliest' | 'latest';
}

const state = loadState<PageState>({ windowMinutes: 5, joinTopic: '', joinFrom: 'earliest' });
const app = document.getElementById('app') as HTMLElement;

let synced: GroupSyncResult | undefined;
let snapshot: GroupSnapshot | null = null;
let history: LagSample[] = [];
let timeline: TimelineEntry[] = [];
let own: OwnMemberView[] = [];

const titleEl = h('h1', { text: 'Consumer group' });
const subtitleEl = h('span', { class: 'muted' });
const updatedEl = h('span', { class: 'muted updated', attrs: { 'aria-live': 'off' } });
const cards = h('section', { class: 'cards', attrs: { 'aria-label': 'Summary' } });
const errorBox = h('div', { attrs: { 'aria-live': 'polite' } });
const chartBox = h('div', { class: 'chart', role: 'img', attrs: { 'aria-label': 'Lag over time' } });
const legendBox = h('div', { class: 'legend' });
const windowDropdown = dropdown({
  label: 'Chart window',
  choices: [
    { value: '1', label: 'Last minute' },
    { value: '5', label: 'Last 5 minutes' },
    { value: '10', label: 'Last 10 minutes' },
  ],
  value: String(state.windowMinutes),
  onChange: (v) => {
    state.windowMinutes = Number(v);
    saveState(state);
    renderChart();
  },
});
const partitionsBox = h('div', { class: 'table-wrap' });
const membersBox = h('div', { class: 'table-wrap' });
const timelineList = h('ol', { class: 'timeline', attrs: { 'aria-label': 'Timeline, newest first' } });
const topicDropdown = dropdown({ label: 'Topic', choices: [], onChange: (v) => ((state.joinTopic = v), saveState(state)) });
const fromDropdown = dropdown({
  label: 'Start without a committed offset',
  choices: [
    { value: 'earliest', label: 'earliest' },
    { value: 'latest', label: 'latest' },
  ],
  value: state.joinFrom,
  onChange: (v) => ((state.joinFrom = v as 'earliest' | 'latest'), saveState(state)),
});
const joinButton = button('Join as a new member', { id: 'join', icon: 'person-add', onClick: () => void join() });
const joinProblem = h('div', { class: 'error-text', attrs: { 'aria-live': 'polite' } });
const ownBox = h('div', { class: 'own-members' });

function layout(): void {
  replace(
    app,
    h('header', { class: 'mk-header' }, titleEl, subtitleEl, updatedEl),
    errorBox,
    cards,
    h(
      'div',
      { class: 'columns' },
      h(
        'div',
        { class: 'col' },
        h('section', { attrs: { 'aria-label': 'Lag over time' } }, h('div', { class: 'section-head' }, h('h2', { text: 'Lag over time' }), windowDropdown), chartBox, legendBox),
        h('section', {}, h('h2', { text: 'Partitions' }), partitionsBox),
        h('section', {}, h('h2', { text: 'Members' }), membersBox),
      ),
      h(
        'div',
        { class: 'col side' },
        h(
          'section',
          { class: 'join' },
          h('h2', { text: 'Consume as a new member' }),
          h('p', { class: 'muted', text: 'Each member this panel adds joins the group: the group splits the partitions between its members (a queue), and the records each member gets are counted here. Offsets are committed.' }),
          h('div', { class: 'mk-toolbar' }, field('Topic', topicDropdown), field('From', fromDropdown), joinButton),
          joinProblem,
          ownBox,
        ),
        h('section', {}, h('h2', { text: 'Timeline' }), timelineList),
      ),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------- rendering

function card(label: string, value: string, title?: string, extra?: HTMLElement): HTMLElement {
  return h('div', { class: 'card', title }, h('div', { class: 'card-label', text: label }), h('div', { class: 'card-value' }, value, extra ?? null));
}

function renderSnapshot(): void {
  const s = snapshot;
  if (!s) {
    replace(cards, spinner('Reading the group'));
    return;
  }
  updatedEl.textContent = `updated ${formatTime(s.time, false)}`;
  replace(errorBox, s.error ? h('div', { class: 'mk-message error', text: `Reading the group failed: ${s.error} (showing the last figures)` }) : null);
  replace(
    cards,
    card('State', s.state, 'The group coordinator’s state of the group', h('span', { class: `state-dot ${s.state}` })),
    card('Members', String(s.members.length)),
    card('Total lag', formatCount(s.totalLag), 'Sum over partitions of (end offset − committed offset)'),
    card('Protocol', s.protocol || '—', s.protocolType ? `protocol type ${s.protocolType}` : undefined),
    card('Generation', `+${s.rebalancesSeen}`, 'Kafka’s DescribeGroups does not report the generation id: this counts the generations (rebalances) seen since the panel was opened.'),
  );
  const memberByClient = new Map(s.members.map((m) => [m.memberId, m]));
  replace(
    partitionsBox,
    s.partitions.length === 0
      ? h('p', { class: 'muted', text: 'The group has no committed offsets and no assigned partitions.' })
      : h(
          'table',
          { class: 'mk-table', attrs: { 'aria-label': 'Offsets and lag per partition' } },
          h(
            'thead',
            {},
            h('tr', {}, ...['Topic', 'Partition', 'Leader', 'Committed', 'End', 'Lag', 'Owner'].map((t, i) => h('th', { class: i >= 1 && i <= 5 ? 'num' : '', text: t }))),
          ),
          h(
            'tbody',
            {},
            ...s.partitions.map((p) => {
              const owner = p.ownerMemberId ? memberByClient.get(p.ownerMemberId) : undefined;
              return h(
                'tr',
                { class: p.lag !== null && p.lag !== '0' ? 'lagging' : '' },
                h('td', { text: p.topic }),
                h('td', { class: 'num', text: String(p.partition) }),
                h('td', { class: p.leader === -1 ? 'num error-text' : 'num', text: p.leader === null ? '?' : p.leader === -1 ? 'offline' : String(p.leader) }),
                h('td', { class: 'num mono', text: p.committed ?? '—' }),
                h('td', { class: 'num mono', text: p.end ?? '?' }),
                h('td', { class: 'num mono lag', text: p.lag ?? '—' }),
                h('td', { class: owner?.own ? 'own' : '', text: p.ownerClientId ? `${p.ownerClientId}${owner?.own ? ' (this panel)' : ''}` : '—', title: p.ownerMemberId ?? '' }),
              );
            }),
          ),
        ),
  );
  replace(
    membersBox,
    s.members.length === 0
      ? h('p', { class: 'muted', text: s.state === 'Dead' ? 'The group does not exist (yet).' : 'No members: nobody is consuming.' })
      : h(
          'table',
          { class: 'mk-table', attrs: { 'aria-label': 'Members' } },
          h('thead', {}, h('tr', {}, h('th', { text: 'Client' }), h('th', { text: 'Member id' }), h('th', { text: 'Host' }), h('th', { text: 'Partitions' }))),
          h(
            'tbody',
            {},
            ...s.members.map((m) =>
              h(
                'tr',
                { class: m.own ? 'own' : '' },
                h('td', {}, m.clientId, m.own ? badge('this panel', { class: 'own-badge' }) : null),
                h('td', { class: 'mono small', text: m.memberId }),
                h('td', { text: m.host }),
                h('td', { class: 'mono', text: m.assignment.map((a) => `${a.topic}: ${a.partitions.join(', ')}`).join(' · ') || 'none' }),
              ),
            ),
          ),
        ),
  );
}

const SERIES_CLASSES = ['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7'];

function renderChart(): void {
  const W = 640;
  const H = 180;
  const pad = { l: 48, r: 8, t: 8, b: 20 };
  const now = history.length ? history[history.length - 1].time : Date.now();
  // The window, or less while the panel has watched for less time (at least 30 s, so early samples spread out).
  const oldest = history.length ? history[0].time : now;
  const from = Math.max(now - state.windowMinutes * 60_000, Math.min(oldest, now - 30_000));
  const points = history.filter((s) => s.time >= from);
  const spanS = Math.round((now - from) / 1000);
  const keys = [...new Set(points.flatMap((p) => Object.keys(p.byPartition)))].sort(naturalCompare);
  const series = keys.length > 1 ? keys.slice(0, SERIES_CLASSES.length) : [];
  const max = Math.max(1, ...points.map((p) => p.total));
  const x = (t: number) => pad.l + ((t - from) / (now - from || 1)) * (W - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - v / max) * (H - pad.t - pad.b);
  const line = (values: Array<[number, number]>, cls: string) => svg('polyline', { class: `line ${cls}`, points: values.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ') });
  const grid: SVGElement[] = [];
  for (const frac of [0, 0.5, 1]) {
    const v = max * frac;
    grid.push(svg('line', { class: 'grid', x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) }));
    grid.push(svg('text', { class: 'axis', x: pad.l - 4, y: y(v) + 4, 'text-anchor': 'end' }, document.createTextNode(formatCompact(v))));
  }
  grid.push(svg('text', { class: 'axis', x: pad.l, y: H - 4 }, document.createTextNode(spanS >= 120 ? `−${Math.round(spanS / 60)} min` : `−${spanS} s`)));
  grid.push(svg('text', { class: 'axis', x: W - pad.r, y: H - 4, 'text-anchor': 'end' }, document.createTextNode('now')));
  const lines: SVGElement[] = [];
  series.forEach((k, i) => lines.push(line(points.filter((p) => k in p.byPartition).map((p) => [p.time, p.byPartition[k]]), `partition ${SERIES_CLASSES[i]}`)));
  if (points.length > 0) lines.push(line(points.map((p) => [p.time, p.total]), 'total'));
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', class: 'chart-svg' }, ...grid, ...lines);
  replace(chartBox, points.length === 0 ? h('p', { class: 'muted', text: 'No lag figures yet.' }) : chart);
  chartBox.setAttribute('aria-label', points.length ? `Lag over the last ${spanS} seconds: now ${points[points.length - 1].total}, highest ${max}` : 'Lag over time: no figures yet');
  replace(
    legendBox,
    h('span', { class: 'key total' }, 'total'),
    ...series.map((k, i) => h('span', { class: `key ${SERIES_CLASSES[i]}` }, k)),
    keys.length > series.length && series.length > 0 ? h('span', { class: 'muted', text: ` +${keys.length - series.length} more partitions (in the total)` }) : null,
  );
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

function formatCompact(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${Math.round(v / 1e3)}k`;
  return String(Math.round(v));
}

const KIND_ICONS: Record<TimelineKind, string> = {
  rebalance: 'sync',
  state: 'info',
  member: 'person',
  leader: 'star-full',
  isr: 'server',
  broker: 'server-process',
  own: 'person-add',
  error: 'error',
};

function renderTimeline(): void {
  const items = [...timeline].reverse().map((e) =>
    h('li', { class: `tl ${e.kind}` }, icon(KIND_ICONS[e.kind] ?? 'circle-small', e.kind), h('span', { class: 'mono tl-time', text: formatTime(e.time, false) }), h('span', { class: 'tl-text', text: e.text })),
  );
  replace(timelineList, ...items);
  if (items.length === 0) timelineList.appendChild(h('li', { class: 'muted', text: 'Nothing yet.' }));
}

function renderOwn(): void {
  if (own.length === 0) {
    replace(ownBox, h('p', { class: 'muted', text: 'No members added by this panel.' }));
    return;
  }
  replace(
    ownBox,
    h(
      'table',
      { class: 'mk-table', attrs: { 'aria-label': 'Members added by this panel' } },
      h('thead', {}, h('tr', {}, h('th', { text: '#' }), h('th', { text: 'Client' }), h('th', { text: 'State' }), h('th', { class: 'num', text: 'Records' }), h('th', { text: 'Partitions seen' }), h('th', { text: '' }))),
      h(
        'tbody',
        {},
        ...own.map((m) =>
          h(
            'tr',
            {},
            h('td', { text: String(m.id) }),
            h('td', { class: 'mono small', text: m.clientId, title: `reads ${m.topic}` }),
            h('td', { class: m.state === 'error' ? 'error-text' : '', text: m.state === 'error' ? `error: ${m.error ?? ''}` : m.state }),
            h('td', { class: 'num', text: formatCount(m.consumed) }),
            h('td', { class: 'mono', text: m.partitionsSeen.join(', ') || '—' }),
            h('td', {}, m.state === 'consuming' || m.state === 'joining' ? button('Leave', { appearance: 'secondary', title: `Member ${m.id} leaves the group`, onClick: () => void leave(m.id) }) : null),
          ),
        ),
      ),
    ),
  );
}

async function join(): Promise<void> {
  const topic = topicDropdown.value;
  if (!topic) {
    joinProblem.textContent = 'pick a topic';
    return;
  }
  joinProblem.textContent = '';
  joinButton.disabled = true;
  try {
    const m = await rpc.request(JoinGroupRequest, { topic, from: state.joinFrom });
    if (!own.some((x) => x.id === m.id)) own.push(m);
    renderOwn();
  } catch (err) {
    joinProblem.textContent = errorText(err);
  } finally {
    joinButton.disabled = false;
  }
}

async function leave(id: number): Promise<void> {
  try {
    await rpc.request(LeaveGroupRequest, { id });
    own = own.filter((m) => m.id !== id);
    renderOwn();
  } catch (err) {
    joinProblem.textContent = errorText(err);
  }
}

// ---------------------------------------------------------------------------------------------------- start

rpc.on(GroupUpdateNotification, (u) => {
  if (!synced) return;
  snapshot = u.snapshot;
  if (u.sample) {
    history.push(u.sample);
    if (history.length > LAG_HISTORY) history.splice(0, history.length - LAG_HISTORY);
  }
  own = u.ownMembers;
  renderSnapshot();
  renderChart();
  renderOwn();
});
rpc.on(GroupTimelineNotification, (entries) => {
  if (!synced) return;
  timeline.push(...entries);
  if (timeline.length > TIMELINE_LIMIT) timeline.splice(0, timeline.length - TIMELINE_LIMIT);
  renderTimeline();
});

layout();
renderSnapshot();
renderChart();
renderTimeline();
renderOwn();
ready(GROUP_PANEL, () => ({
  rows: [...partitionsBox.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
  rowCount: snapshot?.partitions.length ?? 0,
  info: {
    state: snapshot?.state ?? null,
    members: snapshot?.members.length ?? 0,
    totalLag: snapshot?.totalLag ?? null,
    samples: history.length,
    timeline: timeline.length,
    timelineText: timeline.map((t) => `${t.kind}: ${t.text}`).slice(-20).join('\n'),
    ownMembers: own.length,
    chartLines: chartBox.querySelectorAll('polyline').length,
  },
}));

void (async () => {
  try {
    const s = await rpc.request(GroupSyncRequest, undefined);
    synced = s;
    snapshot = s.snapshot;
    history = s.history;
    timeline = s.timeline;
    own = s.ownMembers;
    titleEl.textContent = `Group ${s.groupId}`;
    subtitleEl.textContent = s.clusterLabel;
    setChoices(topicDropdown, s.topics.map((t) => ({ value: t, label: t })), state.joinTopic || s.topics[0]);
    renderSnapshot();
    renderChart();
    renderTimeline();
    renderOwn();
    app.setAttribute('aria-busy', 'false');
  } catch (err) {
    replace(errorBox, h('div', { class: 'mk-message error', text: `Cannot read the group: ${errorText(err)}` }));
  }
})();
