/**
 * anteroom client, universal entry (browsers, and any runtime with a global WebSocket).
 * Node without a global WebSocket: import from the Node entry, which supplies `ws`.
 */
export { WaitingRoomClient } from './waiting-room-client.js';
export type {
  Admission,
  ClientState,
  ConnectionClose,
  Eviction,
  PositionUpdate,
  ServerError,
  TokenRefresh,
  WaitingRoomClientEvents,
  WaitingRoomClientOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './client-types.js';
export {
  FullJitterBackoff,
  fullJitterDelay,
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_CAP_MS,
} from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export {
  MemoryResumeStore,
  WebStorageResumeStore,
  createSessionResumeStore,
  resumeStorageKey,
  RESUME_STORAGE_KEY_PREFIX,
} from './resume-store.js';
export type { ResumeStore, ResumeStorage } from './resume-store.js';
export type { ActiveStatus, QueuedStatus } from '../protocol/messages.js';
/** Whether to reconnect after a close, and what each close means: the server's own close-reason table. */
export { closeAllowsReconnect, closeReasonForCode, closeReasons } from '../protocol/codes.js';
export type { CloseReason, ErrorCode, EvictionReason } from '../protocol/codes.js';
