import { SimulatedClock } from 'xstate';
import { EventLog } from '../../src/log/event-log.js';
import type { EventRecord } from '../../src/log/event-record.js';
import type { ChatDecision } from '../../machines/chat/chat-types.js';
import { closeReasons } from '../../machines/close-reasons.js';
import { RoomRuntime, type ConnectionEffects, type RoomRuntimeOptions } from '../../src/rooms/room-runtime.js';
import { defaultRoomSettings, type RoomConfig } from '../../src/config/server-config.js';

/** Everything the actors asked the edge to do, per connection, in order. */
export interface SocketRecorder extends ConnectionEffects {
  sent: Map<string, unknown[]>;
  /** Every chat decision of the room, in order. */
  chat: (decision: ChatDecision) => void;
  chatDecisions: ChatDecision[];
  closedWith: Map<string, number>;
  terminated: Set<string>;
  pingFrames: Map<string, number>;
}

export function createSocketRecorder(): SocketRecorder {
  const sent = new Map<string, unknown[]>();
  const push = (conn: string, message: unknown) => {
    let list = sent.get(conn);
    if (!list) sent.set(conn, (list = []));
    list.push(message);
  };
  const recorder: SocketRecorder = {
    sent,
    closedWith: new Map(),
    terminated: new Set(),
    pingFrames: new Map(),
    sendQueuedStatus: (conn, session, position, queueLength) => push(conn, { status: 'queued', session, position, queueLength }),
    sendAdmission: (conn, session) => push(conn, { status: 'active', session }),
    refuseResume: (conn) => push(conn, { error: 'bad_resume' }),
    sendPingFrame: (conn) => recorder.pingFrames.set(conn, (recorder.pingFrames.get(conn) ?? 0) + 1),
    closeSocket: (conn, reason) => {
      const { evicted, code } = closeReasons[reason];
      if (evicted !== null) push(conn, { evicted });
      recorder.closedWith.set(conn, code);
    },
    terminateSocket: (conn) => recorder.terminated.add(conn),
    queueChanged: () => {},
    roomChanged: () => {},
    chatDecisions: [],
    storeChat: () => {},
    chat: (decision) => recorder.chatDecisions.push(decision),
  };
  return recorder;
}

/** A room runtime on a simulated clock, recording its log: the test double of a live server room. */
export function createSimulatedRoom(overrides: Partial<RoomConfig> = {}, options: Pick<RoomRuntimeOptions, 'chat'> = {}) {
  const clock = new SimulatedClock();
  const records: EventRecord[] = [];
  const log = new EventLog({ ringSize: 16, now: () => clock.now() });
  log.on('record', (record) => records.push(record));
  const sockets = createSocketRecorder();
  const runtime = new RoomRuntime({
    settings: { name: 'main', ...defaultRoomSettings, ...overrides },
    log,
    clockFor: () => clock,
    now: () => clock.now(),
    recordTimers: true,
    effects: sockets,
    ...options,
  });
  return { clock, log, records, sockets, runtime, advance: (ms: number) => clock.increment(ms) };
}
