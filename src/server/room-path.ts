/** The room a WebSocket URL path names: `/` is the default room, `/rooms/<name>` a named one. */
export type RoomPath = { kind: 'room'; room: string } | { kind: 'not-a-room-path' };

export const defaultRoomName = 'main';

export function roomFromPath(url: string | undefined): RoomPath {
  const path = (url ?? '/').split('?', 1)[0]!;
  if (path === '/' || path === '') return { kind: 'room', room: defaultRoomName };
  const match = /^\/rooms\/([^/]+)\/?$/.exec(path);
  if (!match) return { kind: 'not-a-room-path' };
  let room: string;
  try {
    room = decodeURIComponent(match[1]!);
  } catch {
    return { kind: 'not-a-room-path' };
  }
  return { kind: 'room', room };
}
