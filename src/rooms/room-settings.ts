/** The per-room settings the actors run with (a subset of the server's RoomConfig, recorded in the log). */
export interface RoomSettings {
  name: string;
  capacity: number;
  maxQueue: number;
  heartbeatTimeoutMs: number;
  heartbeatIntervalMs: number;
  queuePingMs: number;
  resumeWindowMs: number;
  sessionTtlMs: number;
}

export const defaultRoomSettings: RoomSettings = {
  name: 'main',
  capacity: 5,
  maxQueue: 0,
  heartbeatTimeoutMs: 3000,
  heartbeatIntervalMs: 2000,
  queuePingMs: 15_000,
  resumeWindowMs: 30_000,
  sessionTtlMs: 0,
};
