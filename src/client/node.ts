/**
 * anteroom client, Node entry: the universal API plus {@link createNodeClient}, which uses `ws` as the
 * WebSocket implementation (Node 20 has no global WebSocket).
 */
import WebSocket from 'ws';
import { WaitingRoomClient } from './waiting-room-client.js';
import type { WaitingRoomClientOptions, WebSocketConstructor } from './client-types.js';

export * from './index.js';

/** The `ws` constructor, typed as the WebSocket surface the client uses. */
export const NodeWebSocket: WebSocketConstructor = WebSocket;

/**
 * Create a {@link WaitingRoomClient} that connects with `ws` unless `options.WebSocket` says otherwise.
 * Call `connect()` on the result to join the room.
 */
export function createNodeClient(options: WaitingRoomClientOptions): WaitingRoomClient {
  return new WaitingRoomClient({ ...options, WebSocket: options.WebSocket ?? NodeWebSocket });
}
