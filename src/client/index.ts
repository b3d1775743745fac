/**
 * anteroom client, universal entry (browsers, and any runtime with a global WebSocket).
 * Node without a global WebSocket: import from the Node entry, which supplies `ws`.
 */
export { WaitingRoomClient } from './waiting-room-client.js';
export type {
  Admission,
  ChatMember,
  ChatMessage,
  ClientState,
  ConnectionClose,
  Eviction,
  HistoryPage,
  PendingSay,
  PositionUpdate,
  PresenceChange,
  ServerError,
  TokenRefresh,
  TypingChange,
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
export { MAX_SAY_CHARS, SAY_RATE_PER_SECOND, TYPING_REFRESH_MS } from './live-room.js';
export { MAX_PENDING_SAYS } from './chat-outbox.js';
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
