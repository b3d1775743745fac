// The room view of the waiting page: once admitted to a live room, the page shows the room's messages, who
// is here, who is typing, and a composer. Everything a member wrote is put on the page with textContent,
// never as HTML, so a message containing markup is shown as the characters typed.

const $ = (id) => document.getElementById(id);
/** How long a typing indicator stays without news; the server sends state:false after 5 s itself. */
const TYPING_STALE_MS = 6000;
/** Within this many pixels of the bottom, the log follows new messages. */
const STICK_TO_BOTTOM_PX = 48;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** Who is typing, in words, or '' when nobody is. */
export function typingText(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

const log = $('messages');
const rendered = new Map(); // seq → <li>
const pending = new Map(); // say id → <li>
const typing = new Map(); // user → { name, timer }
const ownIds = new Set();
/** Per tab: which user this page speaks as, so its own messages are marked as such after a reload too. */
let storageKey = null;
let ownUser = null;
let newestSeq = -Infinity;
let client = null;
let members = [];

function readOwnUser() {
  try {
    return sessionStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

function rememberOwnUser(user) {
  ownUser = user;
  try {
    sessionStorage.setItem(storageKey, user);
  } catch {}
  renderMembers(members);
}

function nearBottom() {
  return log.scrollHeight - log.scrollTop - log.clientHeight < STICK_TO_BOTTOM_PX;
}

function messageItem({ seq, id, from, text, at }, isPending = false) {
  const item = document.createElement('li');
  item.className = 'msg';
  if (seq !== undefined) item.dataset.seq = String(seq);
  item.dataset.id = id;
  const head = document.createElement('p');
  head.className = 'msg-head';
  const name = document.createElement('span');
  name.className = 'msg-from';
  name.textContent = from.name;
  const time = document.createElement('time');
  time.className = 'msg-at';
  if (isPending) {
    // Screen readers hear the message once, when the room's copy replaces this one.
    item.setAttribute('aria-hidden', 'true');
    item.classList.add('pending');
    time.textContent = 'Sending…';
  } else {
    time.dateTime = new Date(at).toISOString();
    time.textContent = timeFormat.format(at);
  }
  head.append(name, ' ', time);
  const body = document.createElement('p');
  body.className = 'msg-text';
  body.textContent = text;
  item.append(head, body);
  if (isPending || from.user === ownUser) item.classList.add('mine');
  return item;
}

/** Puts a message in seq order (history pages can arrive after newer live messages). */
function place(message) {
  if (rendered.has(message.seq)) return;
  const item = messageItem(message);
  rendered.set(message.seq, item);
  let after = null;
  if (message.seq < newestSeq) {
    for (const [seq, element] of rendered) if (seq > message.seq && (after === null || seq < Number(after.dataset.seq))) after = element;
  }
  newestSeq = Math.max(newestSeq, message.seq);
  log.insertBefore(item, after ?? log.querySelector('.pending'));
}

function addMessages(messages) {
  const follow = nearBottom();
  for (const message of messages) {
    if (ownIds.has(message.id) && message.from.user !== ownUser) rememberOwnUser(message.from.user);
    pending.get(message.id)?.remove();
    pending.delete(message.id);
    place(message);
    stopTyping(message.from.user);
  }
  if (follow) log.scrollTop = log.scrollHeight;
  document.body.dataset.messages = String(rendered.size);
}

function renderMembers(present) {
  members = present;
  $('members').replaceChildren(
    ...present.map((member) => {
      const item = document.createElement('li');
      item.className = 'member' + (member.user === ownUser ? ' me' : '');
      item.textContent = member.name;
      return item;
    }),
  );
  $('member-count').textContent = String(present.length);
}

function renderTyping() {
  $('typing').textContent = typingText([...typing.values()].map((entry) => entry.name));
}

function stopTyping(user) {
  const entry = typing.get(user);
  if (!entry) return;
  clearTimeout(entry.timer);
  typing.delete(user);
  renderTyping();
}

/**
 * Shows the room of `next` (a WaitingRoomClient) from now on, from a clean slate; call it with each client the
 * page makes. `key` is the sessionStorage key under which the page remembers its own user for this room.
 */
export function bindRoomView(next, key) {
  client = next;
  storageKey = key;
  ownUser = readOwnUser();
  for (const entry of typing.values()) clearTimeout(entry.timer);
  typing.clear();
  rendered.clear();
  pending.clear();
  newestSeq = -Infinity;
  log.replaceChildren();
  renderTyping();
  bindClient();
}

/** The client's room events; a client replaced by a newer one is no longer shown. */
function bindClient() {
  const bound = client;
  const on = (event, listener) => bound.on(event, (payload) => bound === client && listener(payload));
  on('history', ({ messages }) => {
    addMessages(messages);
    $('load-older').hidden = !client.olderHistoryExists;
  });
  on('message', (message) => addMessages([message]));
  on('presence', ({ members: present, left }) => {
    renderMembers(present);
    if (left) stopTyping(left.user);
  });
  on('typing', ({ from, state }) => {
    stopTyping(from.user);
    if (!state || from.user === ownUser) return;
    typing.set(from.user, { name: from.name, timer: setTimeout(() => stopTyping(from.user), TYPING_STALE_MS) });
    renderTyping();
  });
  on('error', ({ code, ref }) => {
    if (ref === undefined || !pending.has(ref) || code === 'rate_limited' || code === 'not_admitted') return;
    pending.get(ref).remove();
    pending.delete(ref);
    showComposerError('That message could not be sent.');
  });
}

function showComposerError(text) {
  $('composer-error').textContent = text;
  $('composer-error').hidden = text === '';
}

function send() {
  const input = $('composer-text');
  const text = input.value.trim();
  if (text === '') return;
  let id;
  try {
    id = client.say(text);
  } catch (error) {
    showComposerError(error instanceof RangeError ? error.message : 'That message could not be sent.');
    return;
  }
  showComposerError('');
  ownIds.add(id);
  input.value = '';
  const item = messageItem({ id, from: { name: 'You', user: ownUser }, text }, true);
  pending.set(id, item);
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  send();
});
$('composer-text').addEventListener('keydown', (event) => {
  // Enter sends; Shift+Enter starts a new line.
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
$('composer-text').addEventListener('input', (event) => client?.typing(event.target.value.trim() !== ''));
$('composer-text').addEventListener('blur', () => client?.typing(false));
$('load-older').addEventListener('click', () => client?.loadOlder());
