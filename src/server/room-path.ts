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

/**
 * The resume token a client presents in its upgrade URL (`?resume=<token>`), or null when there is none. The
 * caller checks it (an empty or over-long one is simply not valid, and answered `bad_resume`).
 */
export function resumeTokenFromUrl(url: string | undefined): string | null {
  const query = url?.split('?', 2)[1];
  if (query === undefined) return null;
  return new URLSearchParams(query).get('resume');
}
