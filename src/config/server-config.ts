/**
 * The server's settings, read from command-line flags, `ANTEROOM_*` environment variables and the optional
 * rooms file, in that order of precedence (a flag beats its environment variable, which beats the default).
 * Every bad value stops the start with a ConfigError naming the flag or variable and the value it held.
 */
import { ConfigError } from './config-error.js';
import {
  describeRange,
  heartbeatIntervalFor,
  isInRange,
  loadRoomsFile,
  maxTimerMs,
  quoteValue,
  roomSettingRanges,
  type WholeNumberRange,
} from './rooms-file.js';

export interface RoomConfig {
  name: string;
  capacity: number;
  maxQueue: number;
  heartbeatTimeoutMs: number;
  heartbeatIntervalMs: number;
  queuePingMs: number;
  resumeWindowMs: number;
  sessionTtlMs: number;
  tokenTtlMs: number;
  /** Most admissions per second, even with free seats; 0 = no limit. */
  admissionRate: number;
  /** Most places one client address may hold in the room; 0 = no limit. */
  maxPlacesPerIp: number;
  /** How long a seat kept for a visitor on the site lasts without a refresh, ms. */
  siteSessionTimeoutMs: number;
  /** Whether seats follow visitors to the site; unset: on exactly when the server has a `--target-url`. */
  siteSessions?: boolean;
  /** When the room opens (ms epoch; rooms file: ISO 8601 or ms). Before it, arrivals wait in a pre-queue. */
  opensAt?: number;
  /** HS256 secret that signs this room's join tickets (rooms file only; never written to the event log). */
  ticketSecret?: string;
  /** JWKS (an http(s) URL or a file path) whose keys sign this room's join tickets (rooms file only). */
  ticketJwks?: string;
  /** How long a seat whose connection ended abnormally is held for a resume, ms (0: released at once). */
  seatGraceMs: number;
  /** A live room: admitted members chat (protocol v2 section 6). Unset: as `--chat` says. */
  chat?: boolean;
  /** Chat messages kept per room (default 1000). */
  historyLimit: number;
}

/** The part of a room that flags, environment and the rooms file can set; the name and ticket keys are per room. */
export type RoomSettings = Omit<RoomConfig, 'name' | 'ticketSecret' | 'ticketJwks' | 'opensAt' | 'siteSessions' | 'chat'>;

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface ServerConfig {
  host: string;
  port: number;
  rooms: RoomConfig[];
  eventLog: string | null;
  /** Where the key, the resume secret, the log and the snapshots live; null: in memory. */
  dataDir: string | null;
  /** With a data dir: a snapshot after this many records. */
  snapshotEveryRecords: number;
  /** With a data dir: a snapshot at least this often while records arrive, ms. */
  snapshotIntervalMs: number;
  eventRingSize: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  allowedOrigins: string[] | null;
  rateLimit: number;
  logLevel: LogLevel;
  inspect: boolean;
  trustProxy: boolean;
  keyFile: string | null;
  targetUrl: string | null;
  adminToken: string | null;
  maxPayload: number;
  outboundBudget: number;
  handshakeTimeoutMs: number;
  /** Connections still mid-handshake one client address may hold (ignored behind --trust-proxy); 0 = no limit. */
  maxHandshakesPerIp: number;
  /** A second listener for the operators' endpoints (dashboard, metrics, rooms, events); null = none. */
  opsPort: number | null;
  opsHost: string;
  /** Dashboard event streams open at once; 0 = no limit. */
  maxEventStreams: number;
  /** Every room whose own `chat` is unset is a live room (`--chat`). */
  chat: boolean;
}

export const defaultRoomName = 'main';

export const defaultRoomSettings: Readonly<RoomSettings> = Object.freeze({
  capacity: 5,
  maxQueue: 0,
  heartbeatTimeoutMs: 3000,
  heartbeatIntervalMs: 2000,
  queuePingMs: 15_000,
  resumeWindowMs: 30_000,
  sessionTtlMs: 0,
  tokenTtlMs: 300_000,
  admissionRate: 0,
  maxPlacesPerIp: 0,
  siteSessionTimeoutMs: 120_000,
  seatGraceMs: 0,
  historyLimit: 1000,
});

/** Server-wide defaults; the rooms default to one room `main` with defaultRoomSettings. */
export const defaultServerConfig: Readonly<Omit<ServerConfig, 'rooms'>> = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  eventLog: null,
  dataDir: null,
  snapshotEveryRecords: 100_000,
  snapshotIntervalMs: 60_000,
  eventRingSize: 10_000,
  maxConnections: 100_000,
  maxConnectionsPerIp: 200,
  allowedOrigins: null,
  rateLimit: 20,
  logLevel: 'info',
  inspect: false,
  trustProxy: false,
  keyFile: null,
  targetUrl: null,
  adminToken: null,
  maxPayload: 65_536,
  outboundBudget: 1_048_576,
  handshakeTimeoutMs: 5000,
  maxHandshakesPerIp: 256,
  opsPort: null,
  opsHost: '127.0.0.1',
  maxEventStreams: 32,
  chat: false,
});

/** `--help` and `-h` are answered by the caller before parsing; a lone `--` ends the flags. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

interface FlagSpec<T> {
  /** Shown in help after the flag; null for a switch that takes no value. */
  valueName: string | null;
  description: string;
  defaultValue: T;
  /** Help's rendering of the default when the value alone would not say it (null, 0 meaning "no limit"). */
  defaultText?: string;
  /** `source` is the flag or environment variable the raw text came from, for the error message. */
  parse(raw: string, source: string): T;
}

function wholeNumber(range: WholeNumberRange) {
  return (raw: string, source: string): number => {
    const text = raw.trim();
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!isInRange(value, range)) {
      throw new ConfigError(`${source} must be ${describeRange(range)}, got ${quoteValue(raw)}`);
    }
    return value;
  };
}

function switchValue(raw: string, source: string): boolean {
  const text = raw.trim().toLowerCase();
  if (text === '1' || text === 'true') return true;
  if (text === '0' || text === 'false') return false;
  throw new ConfigError(`${source} must be true, false, 1 or 0, got ${quoteValue(raw)}`);
}

function nonEmpty(raw: string, source: string): string {
  if (raw.trim() === '') throw new ConfigError(`${source} must not be empty`);
  return raw;
}

function logLevel(raw: string, source: string): LogLevel {
  const text = raw.trim().toLowerCase();
  const level = logLevels.find((candidate) => candidate === text);
  if (level === undefined) throw new ConfigError(`${source} must be one of ${logLevels.join(', ')}, got ${quoteValue(raw)}`);
  return level;
}

/** Browsers send `Origin: scheme://host[:port]` with no path, so an entry with a path could never match. */
function originList(raw: string, source: string): string[] | null {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new ConfigError(`${source} must list at least one origin (or * for any), got ${quoteValue(raw)}`);
  if (entries.includes('*')) {
    if (entries.length > 1) throw new ConfigError(`${source} cannot mix * with named origins, got ${quoteValue(raw)}`);
    return null;
  }
  return entries.map((entry) => {
    const url = URL.canParse(entry) ? new URL(entry) : null;
    if (url === null || !isBareOrigin(url)) {
      throw new ConfigError(`${source} entries must be origins like https://example.com (no path), got ${quoteValue(entry)}`);
    }
    // The normalised form (lower-case host, default port dropped) is what browsers put in Origin.
    return url.origin;
  });
}

function isBareOrigin(url: URL): boolean {
  return (
    /^https?:$/.test(url.protocol) &&
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === '' &&
    url.username === '' &&
    url.password === ''
  );
}

function httpUrl(raw: string, source: string): string {
  const text = raw.trim();
  const url = URL.canParse(text) ? new URL(text) : null;
  if (url === null || !/^https?:$/.test(url.protocol)) {
    throw new ConfigError(`${source} must be an absolute http or https URL, got ${quoteValue(raw)}`);
  }
  return url.href;
}

const room = defaultRoomSettings;
const server = defaultServerConfig;

function roomWholeNumber(field: keyof RoomSettings, valueName: string, description: string, defaultText?: string) {
  return {
    valueName,
    description,
    defaultValue: room[field],
    ...(defaultText === undefined ? {} : { defaultText }),
    parse: wholeNumber(roomSettingRanges[field]),
  } satisfies FlagSpec<number>;
}

const serveFlagSpecs = {
  host: { valueName: '<host>', description: 'address to listen on', defaultValue: server.host, parse: nonEmpty },
  port: {
    valueName: '<port>',
    description: 'port to listen on; 0 picks any free port',
    defaultValue: server.port,
    parse: wholeNumber({ min: 0, max: 65_535 }),
  },
  capacity: roomWholeNumber('capacity', '<n>', 'seats in the room (each room in --config may override)'),
  'heartbeat-timeout': roomWholeNumber('heartbeatTimeoutMs', '<ms>', 'evict an active session silent this long'),
  'heartbeat-interval': roomWholeNumber(
    'heartbeatIntervalMs',
    '<ms>',
    'ping interval suggested to clients; must be below --heartbeat-timeout',
    `two thirds of --heartbeat-timeout (${room.heartbeatIntervalMs})`,
  ),
  'queue-ping': roomWholeNumber('queuePingMs', '<ms>', 'interval of WebSocket ping frames to queued sessions'),
  'resume-window': roomWholeNumber('resumeWindowMs', '<ms>', 'how long a dropped queue place is held for resume'),
  'session-ttl': roomWholeNumber('sessionTtlMs', '<ms>', 'longest an admitted session may stay', '0 (no limit)'),
  'seat-grace': roomWholeNumber('seatGraceMs', '<ms>', 'how long a seat whose connection dropped is held for resume', '0 (released at once)'),
  'token-ttl': roomWholeNumber('tokenTtlMs', '<ms>', 'lifetime of an admission token (at least 1000)'),
  'admission-rate': roomWholeNumber('admissionRate', '<n>', 'most admissions per second, even with free seats', '0 (no limit)'),
  'max-places-per-ip': roomWholeNumber('maxPlacesPerIp', '<n>', 'most places one client address may hold in a room; over it, close 4029', '0 (no limit)'),
  'site-session-timeout': roomWholeNumber('siteSessionTimeoutMs', '<ms>', 'how long a seat kept for a visitor on the site lasts without a refresh'),
  'history-limit': roomWholeNumber('historyLimit', '<n>', 'chat messages kept per live room'),
  chat: {
    valueName: null,
    description: 'make every room a live room: admitted members chat (a room may say "chat": false)',
    defaultValue: server.chat,
    defaultText: 'off',
    parse: switchValue,
  },
  'max-queue': roomWholeNumber('maxQueue', '<n>', 'longest queue; later arrivals are closed with 4003', '0 (unlimited)'),
  config: {
    valueName: '<file>',
    description: 'JSON rooms file: { "rooms": [ { "name": "main", "capacity": 5, ... } ] }',
    defaultValue: null as string | null,
    defaultText: 'none (one room "main")',
    parse: nonEmpty,
  },
  'event-log': {
    valueName: '<file.jsonl>',
    description: 'append every event log record to this file',
    defaultValue: server.eventLog,
    defaultText: 'none',
    parse: nonEmpty,
  },
  'data-dir': {
    valueName: '<dir>',
    description: 'keep the line across restarts: signing key, resume secret, event log and snapshots live here',
    defaultValue: server.dataDir,
    defaultText: 'none (in memory)',
    parse: nonEmpty,
  },
  'snapshot-records': {
    valueName: '<n>',
    description: 'with --data-dir: snapshot the rooms after this many log records',
    defaultValue: server.snapshotEveryRecords,
    parse: wholeNumber({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  },
  'snapshot-interval': {
    valueName: '<ms>',
    description: 'with --data-dir: snapshot the rooms at least this often while records arrive',
    defaultValue: server.snapshotIntervalMs,
    parse: wholeNumber({ min: 1, max: maxTimerMs }),
  },
  'event-ring': {
    valueName: '<n>',
    description: 'recent event log records kept in memory',
    defaultValue: server.eventRingSize,
    parse: wholeNumber({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  },
  'max-connections': {
    valueName: '<n>',
    description: 'open connections allowed in total; 0 = no limit',
    defaultValue: server.maxConnections,
    parse: wholeNumber({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  },
  'max-connections-per-ip': {
    valueName: '<n>',
    description: 'open connections allowed per client address; 0 = no limit',
    defaultValue: server.maxConnectionsPerIp,
    parse: wholeNumber({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  },
  'allowed-origins': {
    valueName: '<a,b>',
    description: 'comma-separated origins allowed to connect; * = any',
    defaultValue: server.allowedOrigins,
    defaultText: 'any',
    parse: originList,
  },
  'rate-limit': {
    valueName: '<msgs/s>',
    description: 'messages per second per connection (burst twice that)',
    defaultValue: server.rateLimit,
    parse: wholeNumber({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  },
  'log-level': {
    valueName: '<level>',
    description: logLevels.join(' | '),
    defaultValue: server.logLevel,
    parse: logLevel,
  },
  inspect: {
    valueName: null,
    description: 'serve the live XState inspector',
    defaultValue: server.inspect,
    defaultText: 'off',
    parse: switchValue,
  },
  'trust-proxy': {
    valueName: null,
    description: 'take the client address from X-Forwarded-For (only behind a proxy you run)',
    defaultValue: server.trustProxy,
    defaultText: 'off',
    parse: switchValue,
  },
  'key-file': {
    valueName: '<file.pem>',
    description: 'PKCS#8 PEM EC P-256 private key that signs admission tokens',
    defaultValue: server.keyFile,
    defaultText: 'a key pair generated at start',
    parse: nonEmpty,
  },
  'target-url': {
    valueName: '<url>',
    description: 'where the waiting page sends admitted users',
    defaultValue: server.targetUrl,
    defaultText: 'none',
    parse: httpUrl,
  },
  'admin-token': {
    valueName: '<token>',
    description: 'bearer token required for admin writes (room config, pause, kick)',
    defaultValue: server.adminToken,
    defaultText: 'none',
    parse: nonEmpty,
  },
  'max-payload': {
    valueName: '<bytes>',
    description: 'largest message a client may send (larger closes with 1009)',
    defaultValue: server.maxPayload,
    parse: wholeNumber({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  },
  'outbound-budget': {
    valueName: '<bytes>',
    description: 'unsent bytes allowed per connection before a slow client is dropped',
    defaultValue: server.outboundBudget,
    parse: wholeNumber({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  },
  'handshake-timeout': {
    valueName: '<ms>',
    description: "time allowed for the WebSocket upgrade, and for each HTTP request's headers",
    defaultValue: server.handshakeTimeoutMs,
    parse: wholeNumber({ min: 1, max: maxTimerMs }),
  },
  'max-handshakes-per-ip': {
    valueName: '<n>',
    description: 'connections still mid-handshake allowed per client address; 0 = no limit',
    defaultValue: server.maxHandshakesPerIp,
    parse: wholeNumber({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  },
  'ops-port': {
    valueName: '<port>',
    description: 'serve the dashboard, metrics, rooms and events API on this port instead; 0 picks any free port',
    defaultValue: server.opsPort as number | null,
    defaultText: 'none (all on --port)',
    parse: wholeNumber({ min: 0, max: 65_535 }),
  },
  'ops-host': {
    valueName: '<host>',
    description: 'address of the --ops-port listener',
    defaultValue: server.opsHost,
    parse: nonEmpty,
  },
  'max-event-streams': {
    valueName: '<n>',
    description: 'dashboard event streams open at once (4 per client address); 0 = no limit',
    defaultValue: server.maxEventStreams,
    parse: wholeNumber({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  },
} satisfies Record<string, FlagSpec<unknown>>;

type ServeFlagName = keyof typeof serveFlagSpecs;
type FlagValue<K extends ServeFlagName> =
  | (typeof serveFlagSpecs)[K]['defaultValue']
  | ReturnType<(typeof serveFlagSpecs)[K]['parse']>;

const serveFlagNames = Object.keys(serveFlagSpecs) as ServeFlagName[];

/** `--max-queue` ↔ `ANTEROOM_MAX_QUEUE`. */
export function envVarFor(flag: string): string {
  return `ANTEROOM_${flag.replace(/^--/, '').toUpperCase().replaceAll('-', '_')}`;
}

export interface ServeFlagInfo {
  flag: string;
  env: string;
  valueName: string | null;
  description: string;
  defaultText: string;
}

/** The flags `serve` accepts, in help order. */
export const serveFlags: readonly ServeFlagInfo[] = serveFlagNames.map((name) => {
  const spec: FlagSpec<unknown> = serveFlagSpecs[name];
  return {
    flag: `--${name}`,
    env: envVarFor(name),
    valueName: spec.valueName,
    description: spec.description,
    defaultText: spec.defaultText ?? String(spec.defaultValue),
  };
});

interface RawSetting {
  raw: string;
  /** The flag or environment variable the text came from. */
  source: string;
}

/** The raw text of every setting given, from the environment and then the flags (a flag beats its variable). */
function rawSettings(argv: string[], env: NodeJS.ProcessEnv): Map<ServeFlagName, RawSetting> {
  const raw = new Map<ServeFlagName, RawSetting>();
  // An empty variable counts as unset, as shells and env files commonly leave them.
  for (const name of serveFlagNames) {
    const envName = envVarFor(name);
    const text = env[envName];
    if (text !== undefined && text !== '') raw.set(name, { raw: text, source: envName });
  }
  readFlags(argv, raw);
  return raw;
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv): ServerConfig {
  const raw = rawSettings(argv, env);

  const read = <K extends ServeFlagName>(name: K): FlagValue<K> => {
    const setting = raw.get(name);
    const spec = serveFlagSpecs[name];
    return (setting === undefined ? spec.defaultValue : spec.parse(setting.raw, setting.source)) as FlagValue<K>;
  };
  const sourceOf = (name: ServeFlagName): string => raw.get(name)?.source ?? `--${name} (default)`;

  const heartbeatTimeoutMs = read('heartbeat-timeout');
  // A default must follow the value it is ordered against when only that value was chosen.
  const intervalFollowsTimeout = !raw.has('heartbeat-interval');
  const roomDefaults: RoomSettings = {
    capacity: read('capacity'),
    maxQueue: read('max-queue'),
    heartbeatTimeoutMs,
    heartbeatIntervalMs: intervalFollowsTimeout ? heartbeatIntervalFor(heartbeatTimeoutMs) : read('heartbeat-interval'),
    queuePingMs: read('queue-ping'),
    resumeWindowMs: read('resume-window'),
    sessionTtlMs: read('session-ttl'),
    tokenTtlMs: read('token-ttl'),
    admissionRate: read('admission-rate'),
    maxPlacesPerIp: read('max-places-per-ip'),
    siteSessionTimeoutMs: read('site-session-timeout'),
    seatGraceMs: read('seat-grace'),
    historyLimit: read('history-limit'),
  };
  if (roomDefaults.heartbeatIntervalMs >= roomDefaults.heartbeatTimeoutMs) {
    throw new ConfigError(
      `heartbeat interval must be less than heartbeat timeout: ${sourceOf('heartbeat-interval')} is ` +
        `${roomDefaults.heartbeatIntervalMs}, ${sourceOf('heartbeat-timeout')} is ${roomDefaults.heartbeatTimeoutMs}`,
    );
  }

  const roomsFile = read('config');
  const rooms =
    roomsFile === null
      ? [{ name: defaultRoomName, ...roomDefaults }]
      : loadRoomsFile(roomsFile, roomDefaults, raw.get('config')?.source, { intervalFollowsTimeout });

  const eventLog = read('event-log');
  const dataDir = read('data-dir');
  if (eventLog !== null && dataDir !== null) {
    throw new ConfigError(`${sourceOf('event-log')} and ${sourceOf('data-dir')}: choose one (the data dir keeps the event log itself)`);
  }
  return {
    host: read('host'),
    port: read('port'),
    rooms,
    eventLog,
    dataDir,
    snapshotEveryRecords: read('snapshot-records'),
    snapshotIntervalMs: read('snapshot-interval'),
    eventRingSize: read('event-ring'),
    maxConnections: read('max-connections'),
    maxConnectionsPerIp: read('max-connections-per-ip'),
    allowedOrigins: read('allowed-origins'),
    rateLimit: read('rate-limit'),
    logLevel: read('log-level'),
    inspect: read('inspect'),
    trustProxy: read('trust-proxy'),
    keyFile: read('key-file'),
    targetUrl: read('target-url'),
    adminToken: read('admin-token'),
    maxPayload: read('max-payload'),
    outboundBudget: read('outbound-budget'),
    handshakeTimeoutMs: read('handshake-timeout'),
    maxHandshakesPerIp: read('max-handshakes-per-ip'),
    opsPort: read('ops-port'),
    opsHost: read('ops-host'),
    maxEventStreams: read('max-event-streams'),
    chat: read('chat'),
  };
}

/** Accepts `--flag value`, `--flag=value` and bare switches; later flags override earlier ones. */
function readFlags(argv: readonly string[], raw: Map<ServeFlagName, RawSetting>): void {
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (arg === '--help' || arg === '-h') continue;
    if (arg === '--') {
      const rest = argv[index + 1];
      if (rest !== undefined) throw new ConfigError(`unexpected argument ${quoteValue(rest)}`);
      return;
    }
    if (!arg.startsWith('--')) {
      throw new ConfigError(
        arg.startsWith('-') ? `unknown flag ${arg} (see --help)` : `unexpected argument ${quoteValue(arg)} (flags start with --)`,
      );
    }
    const equals = arg.indexOf('=');
    const flag = equals === -1 ? arg : arg.slice(0, equals);
    const name = flag.slice(2);
    if (!isServeFlagName(name)) throw new ConfigError(`unknown flag ${flag}${suggestFlag(name)} (see --help)`);

    const spec: FlagSpec<unknown> = serveFlagSpecs[name];
    let value: string;
    if (equals !== -1) {
      value = arg.slice(equals + 1);
    } else if (spec.valueName === null) {
      value = 'true';
    } else {
      const next = argv[index + 1];
      // A following flag means this one's value was forgotten; a single dash may be a (rejected) negative number.
      if (next === undefined || next.startsWith('--')) throw new ConfigError(`${flag} needs a value ${spec.valueName}`);
      value = next;
      index += 1;
    }
    raw.set(name, { raw: value, source: flag });
  }
}

function isServeFlagName(name: string): name is ServeFlagName {
  return Object.hasOwn(serveFlagSpecs, name);
}

function suggestFlag(name: string): string {
  let best: { name: string; distance: number } | null = null;
  for (const candidate of serveFlagNames) {
    const distance = editDistance(name, candidate);
    if (distance <= 2 && (best === null || distance < best.distance)) best = { name: candidate, distance };
  }
  return best === null ? '' : `; did you mean --${best.name}?`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
