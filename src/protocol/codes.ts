/**
 * Close codes, close reasons, eviction reasons and error codes, for the edge and the client library. The
 * tables themselves live in the core (`machines/close-reasons.ts`, `machines/error-codes.ts`).
 */
export {
  CloseCode,
  closeAllowsReconnect,
  closeReasonForCode,
  closeReasonForEviction,
  closeReasons,
  EvictionReasons,
  placeAfterClientClose,
  type CloseReason,
  type CloseReasonName,
  type EvictionReason,
  type PlaceAfterClose,
} from '../../machines/close-reasons.js';
export { ErrorCodes, errorCodes, type ErrorCode } from '../../machines/error-codes.js';
