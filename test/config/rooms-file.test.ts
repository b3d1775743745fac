import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { loadRoomsFile, parseRoomsFile } from '../../src/config/rooms-file.js';
import { defaultRoomSettings, type RoomSettings } from '../../src/config/server-config.js';

const fromFlags: RoomSettings = { ...defaultRoomSettings, capacity: 9, queuePingMs: 4000 };

function parse(document: unknown): ReturnType<typeof parseRoomsFile> {
  return parseRoomsFile(JSON.stringify(document), fromFlags, 'rooms.json');
}

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('parseRoomsFile', () => {
  it('keeps the file order and takes unset fields from the flag values', () => {
    const rooms = parse({
      rooms: [
        { name: 'tickets', capacity: 100, heartbeatTimeoutMs: 10_000, heartbeatIntervalMs: 4000, tokenTtlMs: 60_000 },
        { name: 'main' },
      ],
    });
    expect(rooms).toEqual([
      { ...fromFlags, name: 'tickets', capacity: 100, heartbeatTimeoutMs: 10_000, heartbeatIntervalMs: 4000, tokenTtlMs: 60_000 },
      { ...fromFlags, name: 'main' },
    ]);
  });

  it('sets every room field it knows', () => {
    const all: RoomSettings = {
      capacity: 0,
      maxQueue: 3,
      heartbeatTimeoutMs: 500,
      heartbeatIntervalMs: 100,
      queuePingMs: 200,
      resumeWindowMs: 0,
      sessionTtlMs: 1,
      tokenTtlMs: 1000,
      admissionRate: 20,
      maxPlacesPerIp: 4,
      siteSessionTimeoutMs: 5000,
      seatGraceMs: 5000,
      historyLimit: 20,
    };
    expect(parse({ rooms: [{ name: 'x', ...all }] })).toEqual([{ name: 'x', ...all }]);
    expect(parse({ rooms: [{ name: 'x', ...all, chat: true }] })).toEqual([{ name: 'x', ...all, chat: true }]);
  });

  it('may leave out "main"; then there is no main room', () => {
    expect(parse({ rooms: [{ name: 'a-1' }, { name: 'b_2' }] }).map((room) => room.name)).toEqual(['a-1', 'b_2']);
  });

  it('accepts a 64-character name and refuses a 65-character one', () => {
    expect(parse({ rooms: [{ name: 'a'.repeat(64) }] })[0]?.name).toHaveLength(64);
    expect(messageOf(() => parse({ rooms: [{ name: 'a'.repeat(65) }] }))).toMatch(/^rooms\.json: rooms\[0\]\.name must be/);
  });

  it.each([
    ['not JSON', '{rooms:', /^rooms\.json: not valid JSON \(/],
    ['an array', '[]', /^rooms\.json: must be a JSON object with a "rooms" array$/],
    ['no rooms', '{}', /^rooms\.json: must be a JSON object with a "rooms" array$/],
    ['empty rooms', '{"rooms":[]}', /^rooms\.json: "rooms" must list at least one room$/],
    ['an unknown top-level field', '{"rooms":[{"name":"a"}],"room":[]}', /^rooms\.json: unknown top-level field "room"$/],
  ])('refuses %s', (_label, text, message) => {
    expect(messageOf(() => parseRoomsFile(text, fromFlags, 'rooms.json'))).toMatch(message);
  });

  it.each([
    [{ rooms: ['main'] }, 'rooms.json: rooms[0] must be an object, got "main"'],
    [{ rooms: [{ capacity: 3 }] }, 'rooms.json: rooms[0].name must be 1 to 64 of a-z 0-9 _ -, got undefined'],
    [{ rooms: [{ name: 'a' }, { name: 'has space' }] }, 'rooms.json: rooms[1].name must be 1 to 64 of a-z 0-9 _ -, got "has space"'],
    [{ rooms: [{ name: 'a' }, { name: 'a' }] }, 'rooms.json: rooms[1] repeats the room name "a"'],
    [{ rooms: [{ name: 'a', capcity: 3 }] }, 'rooms.json: rooms[0] (room "a") has an unknown field "capcity"'],
    [{ rooms: [{ name: 'a', capacity: '5' }] }, 'rooms.json: rooms[0].capacity must be a whole number >= 0, got "5"'],
    [{ rooms: [{ name: 'a', capacity: -1 }] }, 'rooms.json: rooms[0].capacity must be a whole number >= 0, got -1'],
    [{ rooms: [{ name: 'a', maxQueue: 1.5 }] }, 'rooms.json: rooms[0].maxQueue must be a whole number >= 0, got 1.5'],
    [{ rooms: [{ name: 'a', capacity: null }] }, 'rooms.json: rooms[0].capacity must be a whole number >= 0, got null'],
    [
      { rooms: [{ name: 'a', queuePingMs: 0 }] },
      'rooms.json: rooms[0].queuePingMs must be a whole number from 1 to 2147483647, got 0',
    ],
    [
      { rooms: [{ name: 'a', heartbeatTimeoutMs: 1500 }] },
      'rooms.json: rooms[0] (room "a"): heartbeatIntervalMs (2000, from flags/defaults) must be less than heartbeatTimeoutMs (1500)',
    ],
    [
      { rooms: [{ name: 'a', heartbeatTimeoutMs: 1000, heartbeatIntervalMs: 1000 }] },
      'rooms.json: rooms[0] (room "a"): heartbeatIntervalMs (1000) must be less than heartbeatTimeoutMs (1000)',
    ],
  ])('%j → %s', (document, message) => {
    expect(messageOf(() => parse(document))).toBe(message);
  });
});

describe('parseRoomsFile when the heartbeat interval was not chosen', () => {
  it('gives a room that sets only its timeout two thirds of it, and keeps an interval the room sets', () => {
    const text = JSON.stringify({
      rooms: [{ name: 'a', heartbeatTimeoutMs: 1500 }, { name: 'b', heartbeatTimeoutMs: 1500, heartbeatIntervalMs: 1200 }, { name: 'c' }],
    });
    const rooms = parseRoomsFile(text, fromFlags, 'rooms.json', { intervalFollowsTimeout: true });
    expect(rooms.map((room) => room.heartbeatIntervalMs)).toEqual([1000, 1200, fromFlags.heartbeatIntervalMs]);
  });
});

describe('loadRoomsFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'anteroom-rooms-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a file from disk', () => {
    const file = join(dir, 'rooms.json');
    writeFileSync(file, JSON.stringify({ rooms: [{ name: 'main', capacity: 1 }] }));
    expect(loadRoomsFile(file, fromFlags)).toEqual([{ ...fromFlags, name: 'main', capacity: 1 }]);
  });

  it('names the flag and path when the file cannot be read', () => {
    const file = join(dir, 'absent.json');
    expect(messageOf(() => loadRoomsFile(file, fromFlags))).toMatch(
      new RegExp(`^--config ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read the rooms file \\(ENOENT`),
    );
  });

  it('names the flag and path when the file is invalid', () => {
    const file = join(dir, 'invalid.json');
    writeFileSync(file, '{"rooms": [{"name": "a"}, {"name": "a"}]}');
    expect(messageOf(() => loadRoomsFile(file, fromFlags, 'ANTEROOM_CONFIG'))).toBe(
      `ANTEROOM_CONFIG ${file}: rooms[1] repeats the room name "a"`,
    );
  });
});

describe('parseRoomsFile: join-ticket keys', () => {
  const secret = 's'.repeat(32);

  it('accepts ticketSecret or ticketJwks per room', () => {
    expect(parse({ rooms: [{ name: 'a', ticketSecret: secret }] })[0]).toMatchObject({ ticketSecret: secret });
    expect(parse({ rooms: [{ name: 'b', ticketJwks: 'https://tickets.example/jwks.json' }] })[0]).toMatchObject({ ticketJwks: 'https://tickets.example/jwks.json' });
    expect(parse({ rooms: [{ name: 'c' }] })[0]).not.toHaveProperty('ticketSecret');
  });

  it('refuses both at once, a short secret, and an empty JWKS', () => {
    expect(messageOf(() => parse({ rooms: [{ name: 'a', ticketSecret: secret, ticketJwks: 'x.json' }] }))).toContain('not both');
    expect(messageOf(() => parse({ rooms: [{ name: 'a', ticketSecret: 'short' }] }))).toContain('at least 32 characters');
    expect(messageOf(() => parse({ rooms: [{ name: 'a', ticketJwks: '' }] }))).toContain('ticketJwks');
  });
});

describe('parseRoomsFile: opensAt', () => {
  it('reads an ISO 8601 date-time with a zone, or ms since the epoch', () => {
    expect(parse({ rooms: [{ name: 'a', opensAt: '2026-12-01T19:00:00Z' }] })[0]!.opensAt).toBe(Date.UTC(2026, 11, 1, 19));
    expect(parse({ rooms: [{ name: 'a', opensAt: '2026-12-01T20:00:00+01:00' }] })[0]!.opensAt).toBe(Date.UTC(2026, 11, 1, 19));
    expect(parse({ rooms: [{ name: 'a', opensAt: 1_800_000_000_000 }] })[0]!.opensAt).toBe(1_800_000_000_000);
  });

  it('refuses a date without a zone, a date alone, and nonsense', () => {
    for (const opensAt of ['2026-12-01T19:00:00', '2026-12-01', 'tonight', -5, 1.5]) {
      expect(messageOf(() => parse({ rooms: [{ name: 'a', opensAt }] }))).toContain('opensAt must be an ISO 8601 date-time');
    }
  });
});
