import { ConfigError } from '../config/config-error.js';
import { parseRoomEntry, roomNamePattern } from '../config/rooms-file.js';
import { defaultRoomSettings, type RoomConfig } from '../config/server-config.js';
import type { RoomAdminCommand } from '../rooms/room-inputs.js';
import type { ServedRoom } from './anteroom-server.js';
import { checkedTicketVerifier, type TicketVerifier } from './join-tickets.js';

/** What the server lets the admin API do to its set of rooms. */
export interface RunTimeRooms {
  readonly rooms: ReadonlyMap<string, ServedRoom>;
  /** Opens a new room (recorded as `room.opened` with `createdBy: "operator"`) checking tickets with `tickets`. */
  create(config: RoomConfig, tickets: TicketVerifier | null): ServedRoom;
  /** Closes a room (4006 to everyone), records its removal and forgets it. */
  remove(name: string): void;
  /** Why rooms cannot be created at run time here (cluster mode), or null when they can. */
  readonly creationRefused: string | null;
}

/** Fields of a room that change live on an existing room; any other difference needs DELETE then PUT. */
const liveFields = ['capacity', 'maxQueue', 'admissionRate'] as const;

export type RoomPutOutcome =
  | { status: 201 | 200; room: ServedRoom }
  | { status: 400 | 409; error: string; message: string };

/**
 * `PUT /api/rooms/<name>` with a room's fields as in the rooms file (the name comes from the path; fields not
 * given take the built-in defaults). A new room is created (201). For an existing room, changes to `capacity`,
 * `maxQueue` and `admissionRate` are applied as operator commands (200); any other difference is 409.
 */
export function putRoom(target: RunTimeRooms, name: string, body: unknown): RoomPutOutcome {
  if (!roomNamePattern.test(name)) return { status: 400, error: 'invalid_request', message: 'room names are 1 to 64 of a-z 0-9 _ -' };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { status: 400, error: 'invalid_request', message: 'body must be a JSON object' };
  const entry = body as Record<string, unknown>;
  if (entry.name !== undefined && entry.name !== name) return { status: 400, error: 'invalid_request', message: 'name in the body differs from the path' };
  let config: RoomConfig;
  try {
    config = parseRoomEntry({ ...entry, name }, defaultRoomSettings, 'room');
  } catch (error) {
    if (error instanceof ConfigError) return { status: 400, error: 'invalid_request', message: error.message };
    throw error;
  }
  const existing = target.rooms.get(name);
  if (existing === undefined) {
    if (target.creationRefused !== null) return { status: 409, error: 'not_supported', message: target.creationRefused };
    const checked = checkedTicketVerifier(config);
    if ('problem' in checked) return { status: 400, error: 'invalid_request', message: checked.problem };
    return { status: 201, room: target.create(config, checked.tickets) };
  }
  const current: RoomConfig = existing.runtime.settings;
  const fixed = (Object.keys(config) as (keyof RoomConfig)[]).filter((key) => !(liveFields as readonly string[]).includes(key) && current[key] !== config[key]);
  if (fixed.length > 0) return { status: 409, error: 'room_exists', message: `cannot change ${fixed.join(', ')} of a running room: DELETE it and PUT it again` };
  for (const command of liveChanges(current, config)) existing.runtime.configure(command);
  return { status: 200, room: existing };
}

function liveChanges(current: RoomConfig, wanted: RoomConfig): RoomAdminCommand[] {
  const commands: RoomAdminCommand[] = [];
  if (current.capacity !== wanted.capacity) commands.push({ type: 'setCapacity', capacity: wanted.capacity });
  if (current.maxQueue !== wanted.maxQueue) commands.push({ type: 'setMaxQueue', maxQueue: wanted.maxQueue });
  if (current.admissionRate !== wanted.admissionRate) commands.push({ type: 'setAdmissionRate', admissionRate: wanted.admissionRate });
  return commands;
}

/** The server's rooms as the admin API changes them: `open` starts a room's runtime and feed; `removed` follows a removal. */
export function createRoomSet(
  rooms: Map<string, ServedRoom>,
  open: (config: RoomConfig, tickets: TicketVerifier | null) => ServedRoom,
  removed: (name: string) => void = () => {},
  creationRefused: string | null = null,
): RunTimeRooms {
  return {
    rooms,
    creationRefused,
    create(config, tickets) {
      const room = open(config, tickets);
      rooms.set(config.name, room);
      return room;
    },
    remove(name) {
      const room = rooms.get(name);
      if (room === undefined) return;
      rooms.delete(name);
      room.cancelOpening();
      room.feed.stop();
      room.runtime.remove();
      removed(name);
    },
  };
}
