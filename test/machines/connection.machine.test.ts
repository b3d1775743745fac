import { describe, expect, it, vi } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { connectionMachine, type ConnectionInput } from '../../machines/connection.machine.js';
import { CloseCode, closeCodeForEviction, EvictionReasons } from '../../src/protocol/codes.js';

const input: ConnectionInput = {
  conn: 'c1',
  session: 's1',
  room: 'main',
  heartbeatTimeoutMs: 3000,
  queuePingMs: 15_000,
  closeTimeoutMs: 5000,
};

/** A connection actor on a simulated clock whose room- and socket-facing actions are spies. */
function startConnection(overrides: Partial<ConnectionInput> = {}) {
  const actions = {
    requestPlace: vi.fn(),
    requestLeave: vi.fn(),
    reportHeartbeatExpired: vi.fn(),
    reportSocketClosed: vi.fn(),
    reportOverflow: vi.fn(),
    sendQueuedStatus: vi.fn(),
    sendAdmission: vi.fn(),
    sendEvicted: vi.fn(),
    sendPingFrame: vi.fn(),
    closeSocket: vi.fn(),
    terminateSocket: vi.fn(),
  };
  const clock = new SimulatedClock();
  const actor = createActor(connectionMachine.provide({ actions }), { input: { ...input, ...overrides }, clock });
  actor.start();
  return { actor, clock, actions };
}

/** The params each call of an action spy received (the second argument XState passes). */
function paramsOf(spy: ReturnType<typeof vi.fn>): unknown[] {
  return spy.mock.calls.map((call) => call[1]);
}

function startActive(overrides: Partial<ConnectionInput> = {}) {
  const started = startConnection(overrides);
  started.actor.send({ type: 'placed.active' });
  return started;
}

function startQueued(overrides: Partial<ConnectionInput> = {}) {
  const started = startConnection(overrides);
  started.actor.send({ type: 'placed.queued', position: 4, queueLength: 9 });
  return started;
}

describe('connection machine: placement', () => {
  it('asks the room for a place as soon as it starts, once', () => {
    const { actor, actions } = startConnection();
    expect(actor.getSnapshot().value).toBe('connecting');
    expect(actions.requestPlace).toHaveBeenCalledTimes(1);
    expect(actions.sendQueuedStatus).not.toHaveBeenCalled();
    expect(actions.sendAdmission).not.toHaveBeenCalled();
  });

  it('goes to open.queued and sends the queued status with the decided position', () => {
    const { actor, actions } = startQueued();
    expect(actor.getSnapshot().matches({ open: 'queued' })).toBe(true);
    expect(paramsOf(actions.sendQueuedStatus)).toEqual([{ position: 4, queueLength: 9 }]);
    expect(actions.sendAdmission).not.toHaveBeenCalled();
  });

  it('goes to open.active and sends the admission', () => {
    const { actor, actions } = startActive();
    expect(actor.getSnapshot().matches({ open: 'active' })).toBe(true);
    expect(actions.sendAdmission).toHaveBeenCalledTimes(1);
    expect(actions.sendQueuedStatus).not.toHaveBeenCalled();
  });

  it('moves from queued to active on admission and sends the admission', () => {
    const { actor, actions } = startQueued();
    actor.send({ type: 'placed.active' });
    expect(actor.getSnapshot().matches({ open: 'active' })).toBe(true);
    expect(actions.sendAdmission).toHaveBeenCalledTimes(1);
  });

  it('adopts the resumed session and sends its queued status', () => {
    const { actor, actions } = startQueued();
    actor.send({ type: 'resumed', session: 'held-session', position: 1, queueLength: 8 });
    expect(actor.getSnapshot().context.session).toBe('held-session');
    expect(actor.getSnapshot().matches({ open: 'queued' })).toBe(true);
    expect(paramsOf(actions.sendQueuedStatus)).toEqual([
      { position: 4, queueLength: 9 },
      { position: 1, queueLength: 8 },
    ]);
  });
});

describe('connection machine: heartbeat of an active session', () => {
  it('evicts a session silent for heartbeatTimeoutMs: reports it, tells the client, closes with 4000', () => {
    const { actor, clock, actions } = startActive();
    clock.increment(2999);
    expect(actor.getSnapshot().matches({ open: 'active' })).toBe(true);
    expect(actions.reportHeartbeatExpired).not.toHaveBeenCalled();

    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('closing');
    expect(actions.reportHeartbeatExpired).toHaveBeenCalledTimes(1);
    expect(paramsOf(actions.sendEvicted)).toEqual([{ reason: 'heartbeat_timeout' }]);
    expect(paramsOf(actions.closeSocket)).toEqual([{ code: CloseCode.heartbeatTimeout }]);
    expect(actor.getSnapshot().context.closeCode).toBe(4000);
    // The client hears why before the close.
    const [evictedOrder] = actions.sendEvicted.mock.invocationCallOrder;
    const [closeOrder] = actions.closeSocket.mock.invocationCallOrder;
    expect(evictedOrder).toBeLessThan(closeOrder!);
  });

  it('restarts the timeout on every activity, so a session that keeps talking survives many intervals', () => {
    const { actor, clock, actions } = startActive();
    for (let i = 0; i < 20; i++) {
      clock.increment(2999);
      actor.send({ type: 'activity' });
    }
    expect(actor.getSnapshot().matches({ open: 'active' })).toBe(true);
    expect(actions.reportHeartbeatExpired).not.toHaveBeenCalled();

    clock.increment(2999);
    expect(actor.getSnapshot().matches({ open: 'active' })).toBe(true);
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('closing');
    expect(actions.reportHeartbeatExpired).toHaveBeenCalledTimes(1);
  });

  it('does not probe an active session with ping frames', () => {
    const { clock, actions } = startActive({ queuePingMs: 1000, heartbeatTimeoutMs: 10_000 });
    clock.increment(9000);
    expect(actions.sendPingFrame).not.toHaveBeenCalled();
  });
});

describe('connection machine: probing a queued session', () => {
  it('sends a ping frame every queuePingMs and closes with 4000 after two silent intervals', () => {
    const { actor, clock, actions } = startQueued({ queuePingMs: 1000 });
    clock.increment(999);
    expect(actions.sendPingFrame).not.toHaveBeenCalled();
    clock.increment(1);
    expect(actions.sendPingFrame).toHaveBeenCalledTimes(1);
    expect(actor.getSnapshot().context.unansweredProbes).toBe(1);

    clock.increment(999);
    expect(actor.getSnapshot().matches({ open: 'queued' })).toBe(true);
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('closing');
    expect(actions.sendPingFrame).toHaveBeenCalledTimes(1);
    expect(actions.reportHeartbeatExpired).toHaveBeenCalledTimes(1);
    expect(paramsOf(actions.sendEvicted)).toEqual([{ reason: 'heartbeat_timeout' }]);
    expect(paramsOf(actions.closeSocket)).toEqual([{ code: CloseCode.heartbeatTimeout }]);
  });

  it.each([['pong' as const], ['activity' as const]])('keeps a queued session that answers with %s', (answer) => {
    const { actor, clock, actions } = startQueued({ queuePingMs: 1000 });
    clock.increment(1000);
    expect(actions.sendPingFrame).toHaveBeenCalledTimes(1);
    for (let i = 1; i <= 10; i++) {
      clock.increment(500);
      actor.send({ type: answer });
      expect(actor.getSnapshot().context.unansweredProbes).toBe(0);
      clock.increment(500);
      // The next probe goes out instead of a close: the answer cleared the previous one.
      expect(actions.sendPingFrame).toHaveBeenCalledTimes(i + 1);
      expect(actor.getSnapshot().matches({ open: 'queued' })).toBe(true);
    }
    expect(actions.reportHeartbeatExpired).not.toHaveBeenCalled();
    expect(actions.closeSocket).not.toHaveBeenCalled();
  });

  it('stops probing once admitted', () => {
    const { actor, clock, actions } = startQueued({ queuePingMs: 1000, heartbeatTimeoutMs: 60_000 });
    clock.increment(1000);
    actor.send({ type: 'placed.active' });
    clock.increment(1000);
    clock.increment(1000);
    expect(actions.sendPingFrame).toHaveBeenCalledTimes(1);
    expect(actor.getSnapshot().matches({ open: 'active' })).toBe(true);
  });
});

describe('connection machine: ending', () => {
  it('asks the room to leave, and on release closes with 1000 without an eviction', () => {
    const { actor, actions } = startActive();
    actor.send({ type: 'leave' });
    expect(actions.requestLeave).toHaveBeenCalledTimes(1);
    expect(actor.getSnapshot().matches({ open: 'active' })).toBe(true);

    actor.send({ type: 'release' });
    expect(actor.getSnapshot().value).toBe('closing');
    expect(paramsOf(actions.closeSocket)).toEqual([{ code: CloseCode.normal }]);
    // sendEvicted carries null for a close that is not an eviction: the edge sends nothing.
    expect(paramsOf(actions.sendEvicted)).toEqual([{ reason: null }]);
    expect(actor.getSnapshot().context.evictionReason).toBeNull();
  });

  it.each([
    ['queue_full' as const, CloseCode.queueFull],
    ['room_closed' as const, CloseCode.roomClosed],
  ])('closes a rejected (%s) connection with %i', (reason, code) => {
    const { actor, actions } = startConnection();
    actor.send({ type: 'reject', reason });
    expect(actor.getSnapshot().value).toBe('closing');
    expect(paramsOf(actions.closeSocket)).toEqual([{ code }]);
    expect(paramsOf(actions.sendEvicted)).toEqual([{ reason: null }]);
    expect(actions.sendQueuedStatus).not.toHaveBeenCalled();
  });

  it.each(EvictionReasons.map((reason) => [reason]))('tells an evicted (%s) client why and closes with its code', (reason) => {
    const { actor, actions } = startQueued();
    actor.send({ type: 'evict', reason });
    expect(actor.getSnapshot().value).toBe('closing');
    expect(paramsOf(actions.sendEvicted)).toEqual([{ reason }]);
    expect(paramsOf(actions.closeSocket)).toEqual([{ code: closeCodeForEviction[reason] }]);
    expect(actions.reportHeartbeatExpired).not.toHaveBeenCalled();
  });

  it('closes a kicked active session with the policy code', () => {
    const { actor, actions } = startActive();
    actor.send({ type: 'evict', reason: 'kicked' });
    expect(paramsOf(actions.closeSocket)).toEqual([{ code: closeCodeForEviction.kicked }]);
    expect(actor.getSnapshot().context.closeCode).toBe(CloseCode.policyViolation);
  });

  it.each([
    ['active', startActive],
    ['queued', startQueued],
    ['connecting', startConnection],
  ] as const)('reports a socket that closed while %s to the room and ends', (_state, start) => {
    const { actor, actions } = start();
    actor.send({ type: 'socket.closed', code: CloseCode.abnormal });
    expect(paramsOf(actions.reportSocketClosed)).toEqual([{ code: 1006 }]);
    expect(actor.getSnapshot().value).toBe('closed');
    expect(actor.getSnapshot().status).toBe('done');
    expect(actions.closeSocket).not.toHaveBeenCalled();
    expect(actions.terminateSocket).not.toHaveBeenCalled();
  });

  it('terminates the socket when the peer does not finish the close handshake within closeTimeoutMs', () => {
    const { actor, clock, actions } = startActive({ heartbeatTimeoutMs: 100_000 });
    actor.send({ type: 'evict', reason: 'room_closed' });
    clock.increment(4999);
    expect(actor.getSnapshot().value).toBe('closing');
    expect(actions.terminateSocket).not.toHaveBeenCalled();
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('closed');
    expect(actions.terminateSocket).toHaveBeenCalledTimes(1);
  });

  it('ends without terminating or reporting when the socket closes during closing', () => {
    const { actor, clock, actions } = startActive();
    actor.send({ type: 'evict', reason: 'replaced' });
    actor.send({ type: 'socket.closed', code: CloseCode.replaced });
    expect(actor.getSnapshot().status).toBe('done');
    clock.increment(10_000);
    expect(actions.terminateSocket).not.toHaveBeenCalled();
    // The room already decided the eviction; a second report would be a second decision.
    expect(actions.reportSocketClosed).not.toHaveBeenCalled();
  });

  it('reports an overflow to the room and terminates the socket without a close handshake', () => {
    const { actor, actions } = startQueued();
    actor.send({ type: 'overflow' });
    expect(actions.reportOverflow).toHaveBeenCalledTimes(1);
    expect(actions.terminateSocket).toHaveBeenCalledTimes(1);
    expect(actions.closeSocket).not.toHaveBeenCalled();
    expect(actor.getSnapshot().status).toBe('done');
  });
});
