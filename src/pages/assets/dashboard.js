// The operators' dashboard: room gauges, per-minute rates, a queue-length chart and the live event log,
// all fed by one server-sent event stream.
const $ = (id) => document.getElementById(id);
const historyMs = 10 * 60_000;
const maxRows = 150;
const history = new Map(); // room -> [[t, queued], …]
const cards = new Map(); // room -> element
const rows = [];
const heartbeatToggle = $('show-heartbeats');

function setFeed(state, text) {
  $('feed').dataset.feed = state;
  $('feed-text').textContent = text;
}

function card(room) {
  let element = cards.get(room);
  if (!element) {
    element = $('room-card').content.firstElementChild.cloneNode(true);
    element.dataset.room = room;
    element.querySelector('.room-name').textContent = room;
    element.querySelector('.controls').addEventListener('submit', (event) => {
      event.preventDefault();
      void applyControls(room, event.currentTarget);
    });
    $('rooms').append(element);
    cards.set(room, element);
  }
  return element;
}

// The admin token stays in this tab only.
const tokenInput = $('admin-token');
tokenInput.value = sessionStorage.getItem('anteroom:admin-token') ?? '';
tokenInput.addEventListener('change', () => sessionStorage.setItem('anteroom:admin-token', tokenInput.value));

/** Sends the room's controls to the admin API (`POST /api/rooms/<room>`) and says how it went. */
async function applyControls(room, form) {
  const result = form.querySelector('.result');
  const token = tokenInput.value.trim();
  if (!token) {
    result.dataset.ok = 'false';
    result.textContent = 'Enter the admin token first.';
    tokenInput.focus();
    return;
  }
  const data = new FormData(form);
  const body = {
    status: data.get('status'),
    capacity: Number(data.get('capacity')),
    admissionRate: Number(data.get('admissionRate')),
    notice: String(data.get('notice') ?? '').trim() || null,
  };
  try {
    const answer = await fetch(`/api/rooms/${encodeURIComponent(room)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const reply = await answer.json();
    result.dataset.ok = String(answer.ok);
    result.textContent = answer.ok ? `Applied: ${reply.status}` : answer.status === 401 ? 'The admin token was refused.' : reply.message ?? reply.error;
    form.dataset.dirty = 'false';
  } catch {
    result.dataset.ok = 'false';
    result.textContent = 'The server could not be reached.';
  }
}

/** Fills a room's controls from its stats, unless the operator is editing them. */
function fillControls(element, stats) {
  const form = element.querySelector('.controls');
  if (form.dataset.dirty === 'true' || form.contains(document.activeElement)) return;
  form.elements.status.value = stats.status === 'scheduled' ? 'open' : stats.status;
  form.elements.capacity.value = String(stats.capacity);
  form.elements.admissionRate.value = String(stats.admissionRate ?? 0);
  form.elements.notice.value = stats.notice ?? '';
}
document.addEventListener('input', (event) => {
  const form = event.target.closest?.('.controls');
  if (form) form.dataset.dirty = 'true';
});

function renderRoom(stats) {
  const element = card(stats.name);
  const field = (name) => element.querySelector(`[data-field="${name}"]`);
  const status = element.querySelector('.status');
  status.textContent = stats.status;
  status.dataset.status = stats.status;
  field('seats').textContent = `${stats.active} / ${stats.capacity}`;
  const fill = stats.capacity > 0 ? Math.min(1, stats.active / stats.capacity) : 0;
  const meter = element.querySelector('.meter-fill');
  meter.style.width = `${Math.round(fill * 100)}%`;
  meter.dataset.full = String(stats.active >= stats.capacity);
  field('queued').textContent = String(stats.queued);
  field('held').textContent = stats.held > 0 ? `${stats.held} held for resume` : '';
  field('admissions').textContent = String(stats.admissionsPerMinute);
  field('evictions').textContent = String(stats.evictionsPerMinute);
  element.querySelector('[data-field="evictions"]').dataset.alert = String(stats.evictionsPerMinute > 0);
  field('notice').textContent = stats.notice ? `Notice: ${stats.notice}` : '';
  fillControls(element, stats);
}

function pushSample(room, at, queued) {
  let samples = history.get(room);
  if (!samples) history.set(room, (samples = []));
  samples.push([at, queued]);
  while (samples.length > 0 && samples[0][0] < at - historyMs) samples.shift();
}

const svgNs = 'http://www.w3.org/2000/svg';
function svg(tag, attributes) {
  const element = document.createElementNS(svgNs, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

function drawChart(room, now) {
  const chart = card(room).querySelector('svg');
  const samples = history.get(room) || [];
  // Drawn in the chart's own pixels, so the labels are never stretched.
  const width = Math.max(200, Math.round(chart.clientWidth || 600)), height = 150, top = 14, bottom = 20, left = 34;
  chart.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const peak = Math.max(4, ...samples.map(([, queued]) => queued));
  // Gridlines at 0, half and the top: the half is a nice whole step, so every label is a whole number.
  const scaleMax = 2 * niceStep(peak / 2);
  // The window grows with the history, from one minute up to ten, so a new server's chart is not a sliver.
  const span = Math.min(historyMs, Math.max(60_000, samples.length > 0 ? now - samples[0][0] : 0));
  const x = (t) => left + ((t - (now - span)) / span) * (width - left);
  const y = (v) => top + (1 - v / scaleMax) * (height - top - bottom);
  chart.replaceChildren();
  for (const fraction of [0, 0.5, 1]) {
    const v = scaleMax * fraction;
    chart.append(svg('line', { x1: left, x2: width, y1: y(v), y2: y(v), class: 'grid' }));
    const label = svg('text', { x: left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end', 'data-axis': 'y' });
    label.textContent = String(Math.round(v));
    chart.append(label);
  }
  for (const [text, t, anchor] of [[ago(span), now - span, 'start'], [ago(span / 2), now - span / 2, 'middle'], ['now', now, 'end']]) {
    const label = svg('text', { x: x(t), y: height - 4, class: 'axis', 'text-anchor': anchor });
    label.textContent = text;
    chart.append(label);
  }
  if (samples.length === 0) return;
  // A step line: the queue holds its length until the next sample.
  let line = `M ${x(samples[0][0]).toFixed(1)} ${y(samples[0][1]).toFixed(1)}`;
  for (let i = 1; i < samples.length; i++) {
    line += ` H ${x(samples[i][0]).toFixed(1)} V ${y(samples[i][1]).toFixed(1)}`;
  }
  line += ` H ${x(now).toFixed(1)}`;
  const area = `${line} V ${y(0).toFixed(1)} H ${x(samples[0][0]).toFixed(1)} Z`;
  chart.append(svg('path', { d: area, class: 'area' }), svg('path', { d: line, class: 'line' }));
  const last = samples[samples.length - 1];
  chart.append(svg('circle', { cx: x(now), cy: y(last[1]), r: 4, class: 'dot' }));
}

function ago(ms) {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min ago` : `${Math.round(ms / 5000) * 5} s ago`;
}

/** The smallest of 1, 2, 5, 10, 20, 50, … that is at least `value` (whole numbers only: queues count people). */
function niceStep(value) {
  const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(1, value))));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

const kindClass = {
  admitted: 'good', queued: 'info', resumed: 'info', held: 'warn', evicted: 'bad', rejected: 'bad',
  released: 'neutral', resumeRefused: 'warn', capacityChanged: 'info', statusChanged: 'warn', maxQueueChanged: 'info',
};

function isHeartbeat(record) {
  return record.kind === 'pong' || record.kind === 'timer' || (record.kind === 'message' && record.data.type === 'ping');
}

function describe(record) {
  return Object.entries(record.data)
    .filter(([key]) => key !== 'session' || record.kind !== 'connected')
    .map(([key, value]) => `${key}=${typeof value === 'object' && value !== null ? JSON.stringify(value) : value}`)
    .join(' ')
    .slice(0, 160);
}

function addRecords(records) {
  const fragment = document.createDocumentFragment();
  for (const record of records) {
    const row = document.createElement('tr');
    row.dataset.kind = record.kind;
    if (isHeartbeat(record)) row.classList.add('heartbeat');
    const cells = [
      String(record.seq),
      new Date(record.at).toLocaleTimeString([], { hour12: false }) + '.' + String(record.at % 1000).padStart(3, '0'),
      record.room,
      record.kind,
      record.conn ?? '',
      describe(record),
    ];
    cells.forEach((text, index) => {
      const cell = document.createElement('td');
      if (index === 3) {
        const badge = document.createElement('span');
        badge.className = `kind ${kindClass[record.kind] || 'input'}`;
        badge.textContent = text;
        cell.append(badge);
      } else {
        cell.textContent = text;
      }
      row.append(cell);
    });
    fragment.prepend(row);
    rows.unshift(row);
  }
  $('event-rows').prepend(fragment);
  while (rows.length > maxRows) rows.pop().remove();
}

heartbeatToggle.addEventListener('change', () => {
  document.body.classList.toggle('show-heartbeats', heartbeatToggle.checked);
});

function redraw(now) {
  for (const room of cards.keys()) drawChart(room, now);
}

const stream = new EventSource('/api/events/stream');
stream.addEventListener('open', () => setFeed('live', 'Live'));
stream.addEventListener('error', () => setFeed('reconnecting', 'Reconnecting…'));
stream.addEventListener('snapshot', (message) => {
  const snapshot = JSON.parse(message.data);
  history.clear();
  $('event-rows').replaceChildren();
  rows.length = 0;
  for (const [room, samples] of Object.entries(snapshot.history)) history.set(room, samples.slice());
  for (const stats of snapshot.rooms) renderRoom(stats);
  addRecords(snapshot.recent);
  $('rooms').setAttribute('aria-busy', 'false');
  redraw(snapshot.at);
});
stream.addEventListener('rooms', (message) => {
  const update = JSON.parse(message.data);
  for (const stats of update.rooms) {
    renderRoom(stats);
    pushSample(stats.name, update.at, stats.queued);
  }
  redraw(update.at);
});
stream.addEventListener('records', (message) => {
  const batch = JSON.parse(message.data);
  addRecords(batch.records);
});
