import { describe, expect, it, vi } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { connectionMachine, type ConnectionInput } from '../../machines/connection.machine.js';
import { CloseCode, closeReasonForEviction, closeReasons, EvictionReasons } from '../../machines/close-reasons.js';

const input: ConnectionInput = {
  conn: 'c1',
  session: 's1',
  room: 'main',
  heartbeatTimeoutMs: 3000,
  queuePingMs: 15_000,
  closeTimeoutMs: 5000,
  resumeGraceMs: 2000,
};

/** A connection actor on a simulated clock whose room- and socket-facing actions are spies. */
function startConnection(overrides: Partial<ConnectionInput> = {}) {
  const actions = {
    requestPlace: vi.fn(),
    reportLeave: vi.fn(),
    reportResume: vi.fn(),
    reportHeartbeatExpired: vi.fn(),
    reportFault: vi.fn(),
    reportSocketClosed: vi.fn(),
    reportOverflow: vi.fn(),
    sendQueuedStatus: vi.fn(),
    sendAdmission: vi.fn(),
    refuseResume: vi.fn(),
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
    // One close, for a reason whose row says: evicted{heartbeat_timeout} first, then 4000.
    expect(paramsOf(actions.closeSocket)).toEqual([{ reason: 'heartbeatTimeout' }]);
    expect(closeReasons.heartbeatTimeout).toMatchObject({ code: 4000, evicted: 'heartbeat_timeout' });
    expect(actor.getSnapshot().context.closeReason).toBe('heartbeatTimeout');
  });

  it('restarts the timeout on every activity, so a session that keeps talking survives many intervals', () => {
    const { actor, clock, actions } = startActive();
    for (let i = 0; i < 20; i++) {
      clock.increment(2999);
      actor.send({ type: 'ping' });
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
    expect(paramsOf(actions.closeSocket)).toEqual([{ reason: 'heartbeatTimeout' }]);
  });

  it.each([['pong' as const], ['ping' as const], ['activity' as const]])('keeps a queued session that answers with %s', (answer) => {
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

describe('connection machine: coming back to a full line', () => {
  it('gives a connection the full line turned away resumeGraceMs to present resume, then closes it with 4003', () => {
    const { actor, clock, actions } = startConnection();
    actor.send({ type: 'rejected', reason: 'queue_full' });
    expect(actor.getSnapshot().value).toBe('turnedAway');
    expect(actions.closeSocket).not.toHaveBeenCalled();
    clock.increment(1999);
    expect(actor.getSnapshot().value).toBe('turnedAway');
    clock.increment(1);
    expect(paramsOf(actions.closeSocket)).toEqual([{ reason: 'queueFull' }]);
  });

  it('asks for the place again with the session its resume names, and takes the held place', () => {
    const { actor, actions } = startConnection();
    actor.send({ type: 'rejected', reason: 'queue_full' });
    actor.send({ type: 'resume', session: 'held' });
    expect(actor.getSnapshot().value).toBe('connecting');
    expect(actor.getSnapshot().context.resume).toBe('held');
    expect(actions.requestPlace).toHaveBeenCalledTimes(2);
    actor.send({ type: 'resumed', session: 'held', position: 3, queueLength: 3 });
    expect(actor.getSnapshot().matches({ open: 'queued' })).toBe(true);
    expect(actor.getSnapshot().context.session).toBe('held');
    expect(paramsOf(actions.sendQueuedStatus)).toEqual([{ position: 3, queueLength: 3 }]);
    // Refused again (the place is gone): no second window.
    const second = startConnection();
    second.actor.send({ type: 'rejected', reason: 'queue_full' });
    second.actor.send({ type: 'resume', session: 'gone' });
    second.actor.send({ type: 'rejected', reason: 'queue_full' });
    expect(paramsOf(second.actions.closeSocket)).toEqual([{ reason: 'queueFull' }]);
  });

  it('closes at once when it came with a resume token, or the room is closed, or the token it sends is not valid', () => {
    const withToken = startConnection({ resume: 'held' });
    withToken.actor.send({ type: 'rejected', reason: 'queue_full' });
    expect(paramsOf(withToken.actions.closeSocket)).toEqual([{ reason: 'queueFull' }]);
    const closedRoom = startConnection();
    closedRoom.actor.send({ type: 'rejected', reason: 'room_closed' });
    expect(paramsOf(closedRoom.actions.closeSocket)).toEqual([{ reason: 'roomClosed' }]);
    const forged = startConnection();
    forged.actor.send({ type: 'rejected', reason: 'queue_full' });
    forged.actor.send({ type: 'resume', session: null });
    expect(forged.actions.refuseResume).toHaveBeenCalledTimes(1);
    expect(paramsOf(forged.actions.closeSocket)).toEqual([{ reason: 'queueFull' }]);
  });

  it('answers a resume token presented at the upgrade that is not valid once it is placed', () => {
    const { actor, actions } = startConnection({ resume: null });
    actor.send({ type: 'placed.queued', position: 2, queueLength: 2 });
    expect(actions.refuseResume).toHaveBeenCalledTimes(1);
    expect(actions.refuseResume.mock.invocationCallOrder[0]).toBeGreaterThan(actions.sendQueuedStatus.mock.invocationCallOrder[0]!);
  });
});

describe('connection machine: ending', () => {
  it('on leave tells the room and closes with 1000 at once, without an eviction', () => {
    const { actor, actions } = startActive();
    actor.send({ type: 'leave' });
    expect(actions.reportLeave).toHaveBeenCalledTimes(1);
    expect(actor.getSnapshot().value).toBe('closing');
    expect(paramsOf(actions.closeSocket)).toEqual([{ reason: 'left' }]);
    expect(closeReasons.left).toMatchObject({ code: CloseCode.left, evicted: null });
  });

  it.each([
    ['queue_full' as const, 'queueFull', 4003],
    ['room_closed' as const, 'roomClosed', 4006],
  ])('closes a rejected (%s) connection as %s (%i)', (reason, closeReason, code) => {
    const { actor, clock, actions } = startConnection();
    actor.send({ type: 'rejected', reason });
    // A full line first waits out the resume grace (see "coming back to a full line").
    clock.increment(2000);
    expect(actor.getSnapshot().value).toBe('closing');
    expect(paramsOf(actions.closeSocket)).toEqual([{ reason: closeReason }]);
    expect(closeReasons[closeReason as 'queueFull'].code).toBe(code);
    expect(actions.sendQueuedStatus).not.toHaveBeenCalled();
  });

  it.each(EvictionReasons.map((reason) => [reason]))('closes an evicted (%s) client for the reason that tells it why', (reason) => {
    const { actor, actions } = startQueued();
    actor.send({ type: 'evicted', reason });
    expect(actor.getSnapshot().value).toBe('closing');
    const closeReason = closeReasonForEviction[reason];
    expect(paramsOf(actions.closeSocket)).toEqual([{ reason: closeReason }]);
    expect(closeReasons[closeReason].evicted).toBe(reason);
    expect(actions.reportHeartbeatExpired).not.toHaveBeenCalled();
  });

  it('closes a kicked session with 4008, not the policy code a client would show as a rate limit', () => {
    const { actor, actions } = startActive();
    actor.send({ type: 'evicted', reason: 'kicked' });
    expect(paramsOf(actions.closeSocket)).toEqual([{ reason: 'kicked' }]);
    expect(closeReasons.kicked.code).toBe(4008);
  });

  it.each([
    ['binary' as const, 'queued', startQueued],
    ['flood' as const, 'active', startActive],
    ['protocolError' as const, 'queued', startQueued],
    ['tooLarge' as const, 'active', startActive],
  ] as const)('a server-decided close (%s) while %s tells the room at once, before the peer answers', (reason, _state, start) => {
    const { actor, actions } = start();
    actor.send({ type: 'fault', reason });
    expect(paramsOf(actions.reportFault)).toEqual([{ reason }]);
    expect(paramsOf(actions.closeSocket)).toEqual([{ reason }]);
    expect(actor.getSnapshot().value).toBe('closing');
    // The peer's answer, when it comes, is not reported again.
    actor.send({ type: 'socket.closed', code: closeReasons[reason].code });
    expect(actions.reportSocketClosed).not.toHaveBeenCalled();
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('answers a resume with an invalid token itself, and reports a valid one to the room', () => {
    const { actor, actions } = startQueued();
    actor.send({ type: 'resume', session: null });
    expect(actions.refuseResume).toHaveBeenCalledTimes(1);
    expect(actions.reportResume).not.toHaveBeenCalled();
    actor.send({ type: 'resume', session: 'held' });
    expect(paramsOf(actions.reportResume)).toEqual([{ session: 'held' }]);
    actor.send({ type: 'resumeRefused' });
    expect(actions.refuseResume).toHaveBeenCalledTimes(2);
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
    actor.send({ type: 'evicted', reason: 'room_closed' });
    clock.increment(4999);
    expect(actor.getSnapshot().value).toBe('closing');
    expect(actions.terminateSocket).not.toHaveBeenCalled();
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('closed');
    expect(actions.terminateSocket).toHaveBeenCalledTimes(1);
  });

  it('ends without terminating or reporting when the socket closes during closing', () => {
    const { actor, clock, actions } = startActive();
    actor.send({ type: 'evicted', reason: 'replaced' });
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
