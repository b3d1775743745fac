// The waiting page: joins the room over WebSocket with the anteroom client library and shows the place in
// line as it changes. The resume token lives in sessionStorage, so a reload keeps the place. Admitted to a
// live room, the page becomes the room (room-view.js).
import { WaitingRoomClient, closeReasonForCode, createSessionResumeStore } from '/assets/client.js';
import { bindRoomView } from '/assets/room-view.js';

const config = JSON.parse(document.getElementById('anteroom-config').textContent || '{}');
const params = new URLSearchParams(location.search);
const room = params.get('room') || 'main';
const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
const ticket = params.get('ticket');
const roomPath = scheme + location.host + (room === 'main' ? '/' : '/rooms/' + encodeURIComponent(room));
// A priority join ticket from the site's link rides in the upgrade URL.
const roomUrl = ticket ? `${roomPath}?ticket=${encodeURIComponent(ticket)}` : roomPath;

const $ = (id) => document.getElementById(id);
const panels = { connecting: $('panel-connecting'), queued: $('panel-queued'), active: $('panel-active'), room: $('panel-room'), ended: $('panel-ended') };
const startKey = 'anteroom:start:' + roomPath;

if (room !== 'main') {
  $('room-name').textContent = room;
  document.title = `You're in line · ${room}`;
}

let client = null;
let lastPosition = null;
/** Admitted to a live room: the page is the room until the session is queued again or ends. */
let inRoom = false;
let redirectTimer;

function show(panel) {
  for (const [name, element] of Object.entries(panels)) element.hidden = name !== panel;
  document.body.dataset.state = panel;
}

function setConnection(state, text) {
  $('connection').dataset.connection = state;
  $('connection-text').textContent = text;
}

// Screen readers hear the place at most every 10 s, and always the latest one; admission at once.
const announcer = $('announcer');
let announcedAt = 0;
let pendingAnnouncement = null;
function announce(text, urgent = false) {
  clearTimeout(pendingAnnouncement);
  const wait = urgent ? 0 : Math.max(0, announcedAt + 10_000 - Date.now());
  pendingAnnouncement = setTimeout(() => {
    announcedAt = Date.now();
    announcer.textContent = text;
  }, wait);
}

/** The estimate, short enough for its box. */
function formatEta(ms) {
  if (ms === null || ms === undefined) return '—';
  const minutes = Math.round(ms / 60_000);
  if (ms < 60_000) return '< 1 min';
  if (minutes < 60) return `~${minutes} min`;
  return `~${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The estimate in words, for screen readers. */
function describeEta(ms) {
  if (ms === null || ms === undefined) return 'not known yet';
  if (ms < 60_000) return 'less than a minute';
  const minutes = Math.round(ms / 60_000);
  return minutes < 60 ? `about ${minutes} minutes` : `about ${Math.floor(minutes / 60)} hours ${minutes % 60} minutes`;
}

/** The session this tab was waiting as before a reload, if any. */
function savedSession() {
  try {
    return JSON.parse(sessionStorage.getItem(startKey) || 'null')?.session ?? null;
  } catch {
    return null;
  }
}

/** The first place this session was given, kept across reloads, for the progress bar. */
function startPosition(session, position) {
  try {
    const saved = JSON.parse(sessionStorage.getItem(startKey) || 'null');
    if (saved && saved.session === session && saved.start >= position) return saved.start;
    sessionStorage.setItem(startKey, JSON.stringify({ session, start: position }));
  } catch {
    // Storage refused: the bar starts from the current place.
  }
  return position;
}

/** What a visitor is told about the room's status; nothing while it is open or scheduled. */
const roomStatusText = {
  paused: ['The line is paused.', 'Everyone keeps their place; admissions resume shortly.'],
  maintenance: ['Down for maintenance.', 'Everyone in line keeps their place; admissions resume when it is over.'],
  closed: ['This waiting room is closed.', ''],
};

function renderRoom({ status, notice }) {
  document.body.dataset.roomStatus = status;
  const [title, text] = roomStatusText[status] ?? ['', ''];
  $('room-notice-title').textContent = notice ? (title || 'Notice:') : title;
  $('room-notice-text').textContent = notice ?? text;
  $('room-notice').hidden = !title && !notice;
}

let countdownTimer = null;
function renderPreQueue(opensAt) {
  clearInterval(countdownTimer);
  $('prequeue').hidden = opensAt === null;
  document.body.dataset.prequeue = String(opensAt !== null);
  if (opensAt === null) return;
  const tick = () => {
    const seconds = Math.max(0, Math.ceil((opensAt - Date.now()) / 1000));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), sec = seconds % 60;
    $('countdown').textContent = h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
  };
  tick();
  countdownTimer = setInterval(tick, 1000);
}

function renderQueued({ position, queueLength, etaMs, roomStatus, notice, preQueue, opensAt, priority }) {
  inRoom = false;
  show('queued');
  setConnection('connected', 'Connected');
  renderRoom({ status: roomStatus, notice });
  $('priority-badge').hidden = !(priority > 0);
  renderPreQueue(preQueue ? opensAt : null);
  if (position === null) {
    $('position').textContent = '–';
    $('ahead').textContent = '–';
    $('queue-length').textContent = String(queueLength);
    $('eta').textContent = '—';
    announce('You are in the pre-queue. Your place is drawn when the line opens.');
    return;
  }
  $('position').textContent = String(position);
  $('ahead').textContent = String(position - 1);
  $('queue-length').textContent = String(queueLength);
  $('eta').textContent = formatEta(etaMs);
  $('eta').setAttribute('aria-label', describeEta(etaMs));
  showReconnecting(false);
  // Progress since this visitor joined: 0% at the place they were first given, 100% at admission.
  const start = startPosition(client.session, position);
  const percent = start > 0 ? Math.round(((start - position) / start) * 100) : 0;
  $('progress-bar').style.width = `${percent}%`;
  $('progress').setAttribute('aria-valuenow', String(percent));
  $('progress').setAttribute('aria-valuetext', `Place ${position} of ${queueLength}`);
  if (position !== lastPosition) {
    lastPosition = position;
    announce(position === 1 ? 'You are next in line.' : `You are number ${position} in line. ${position - 1} people ahead of you.`);
  }
}

/**
 * While the connection is being restored the place on screen is the last one known, not a live one: it is
 * dimmed and a notice says what is happening and what happens to the place.
 */
function showReconnecting(reconnecting, placeReleased = false) {
  document.body.dataset.reconnecting = String(reconnecting);
  $('reconnect-notice').hidden = !reconnecting;
  if (!reconnecting) return;
  $('reconnect-notice').textContent = placeReleased
    ? 'The waiting room restarted. Reconnecting… you will join the line again.'
    : inRoom
      ? 'Connection lost. Reconnecting… what you write is sent when it is back.'
      : 'Connection lost. Reconnecting… your place in line is kept.';
}

function renderAdmitted({ token, expiresAt }) {
  showReconnecting(false);
  if (inRoom) {
    // Back after a reconnect: the room view stays; the client fills the gap in the messages.
    setConnection('connected', 'Connected');
    return;
  }
  renderPreQueue(null);
  show('active');
  setConnection('connected', 'Connected');
  lastPosition = null;
  try {
    sessionStorage.removeItem(startKey);
  } catch {}
  $('pass-expiry').textContent = `Your pass is valid until ${new Date(expiresAt).toLocaleTimeString()}.`;
  if (config.targetUrl) {
    const target = new URL(config.targetUrl);
    target.searchParams.set('anteroom_token', token);
    $('continue').href = target.href;
    $('continue').hidden = false;
    $('admitted-text').textContent = 'Taking you there now…';
    announce("It's your turn! Taking you to the site.", true);
    redirectTimer = setTimeout(() => location.assign(target.href), 1500);
  } else {
    $('admitted-text').textContent = "You're in. Keep this page open while you use the service.";
    announce("It's your turn! You're in.", true);
  }
}

/** The room said who is here or what was said: this is a live room, and the page becomes it. */
function enterRoom() {
  if (inRoom) return;
  inRoom = true;
  clearTimeout(redirectTimer);
  showReconnecting(false);
  show('room');
  $('messages').scrollTop = $('messages').scrollHeight;
  setConnection('connected', 'Connected');
  $('room-title').textContent = room === 'main' ? "You're in the room" : room;
  document.title = `In the room · ${room === 'main' ? 'anteroom' : room}`;
  announce("It's your turn! You're in the room.", true);
}

function renderEnded(code) {
  // The wording comes from the server's close-reason table, shared with the client library and the docs.
  const visitor = closeReasonForCode(code)?.visitor;
  const title = visitor ? visitor.title : 'Disconnected';
  const text = visitor ? visitor.text.replace('{room}', room) : 'The connection to the waiting room ended.';
  endWith(title, text, code !== 4004);
}

function endWith(title, text, canRejoin) {
  inRoom = false;
  showReconnecting(false);
  show('ended');
  setConnection('closed', 'Disconnected');
  $('ended-title').textContent = title;
  $('ended-text').textContent = text;
  $('rejoin').hidden = !canRejoin;
  announce(`${title}. ${text}`, true);
}

/**
 * A connection that ends before the room placed it may have been refused at the upgrade, which a browser
 * does not reveal. The server answers whether this page's origin may connect; if not, retrying cannot help.
 */
async function refusedForGood() {
  try {
    const response = await fetch('/api/connect-check', { method: 'POST' });
    return response.status === 403;
  } catch {
    return false; // The server is unreachable: a reason to keep trying, not to stop.
  }
}

function join() {
  const resumeStore = createSessionResumeStore(roomUrl);
  client = new WaitingRoomClient({ url: roomUrl, resumeStore });
  bindRoomView(client, 'anteroom:user:' + roomPath);
  client.on('presence', enterRoom);
  client.on('history', enterRoom);
  // After a reload the server first places the new connection at the tail, then the resume moves it back to
  // its place: the tail place is not shown (for up to a second) so the visitor never sees it flash.
  let resuming = resumeStore.get() !== null ? savedSession() : null;
  let tailPlace = null;
  let tailTimer;
  const showTailPlace = () => {
    resuming = null;
    clearTimeout(tailTimer);
    if (tailPlace) renderQueued(tailPlace);
    tailPlace = null;
  };
  client.on('position', (update) => {
    if (resuming !== null && client.session !== resuming) {
      tailPlace = update;
      clearTimeout(tailTimer);
      tailTimer = setTimeout(showTailPlace, 1000);
      return;
    }
    resuming = null;
    tailPlace = null;
    clearTimeout(tailTimer);
    renderQueued(update);
  });
  client.on('error', (error) => {
    if (error.code === 'bad_resume') showTailPlace();
  });
  client.on('room', renderRoom);
  client.on('admitted', (admission) => {
    resuming = null;
    tailPlace = null;
    clearTimeout(tailTimer);
    renderAdmitted(admission);
  });
  let placed = false;
  let placeReleased = false;
  client.on('status', () => {
    placed = true;
    placeReleased = false;
  });
  client.on('evicted', ({ reason }) => {
    placeReleased = reason === 'shutdown';
  });
  client.on('state', (state) => {
    if (state === 'reconnecting') {
      setConnection('reconnecting', 'Reconnecting…');
      showReconnecting(true, placeReleased);
    }
    if (state === 'connecting') setConnection('connecting', 'Connecting…');
  });
  let refused = false;
  client.on('close', async ({ code, willReconnect }) => {
    if (refused) return;
    if (!willReconnect) return renderEnded(code);
    const neverPlaced = !placed;
    placed = false;
    if (neverPlaced && (await refusedForGood()) && client.state === 'reconnecting') {
      refused = true;
      client.close();
      endWith("This page can't join the line", 'The waiting room does not accept visitors from this address. Open the waiting room from the link the site gave you.', false);
    }
  });
  show('connecting');
  client.connect();
}

$('leave').addEventListener('click', () => client && client.leave());
$('rejoin').addEventListener('click', join);
join();
