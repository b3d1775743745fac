/**
 * anteroom, server entry (`import … from 'anteroom-server'`): run a waiting room inside your own Node process.
 * The client library is at `anteroom-server/client` (browsers) and `anteroom-server/client/node`.
 *
 *   const server = await createAnteroomServer(parseServeArgs(['--capacity', '50'], process.env));
 *   const { url } = await server.listen();
 */
export { createAnteroomServer } from './server/anteroom-server.js';
export type { AnteroomServer, AnteroomServerOptions, ServedRoom } from './server/anteroom-server.js';
export { parseServeArgs, defaultRoomSettings, defaultServerConfig, defaultRoomName } from './config/server-config.js';
export type { LogLevel, RoomConfig, RoomSettings, ServerConfig } from './config/server-config.js';
export { ConfigError } from './config/config-error.js';
export { createLogger } from './server/logger.js';
export { CloseCode, closeReasonForCode, closeReasons } from './protocol/codes.js';
export type { CloseReason, CloseReasonName, ErrorCode, EvictionReason } from './protocol/codes.js';
