import { describe, expect, it } from 'vitest';
import { gateEffectsOnCommit } from '../../src/durable/commit-gated-effects.js';
import type { ConnectionEffects } from '../../src/rooms/room-runtime.js';

/** Effects that note every call, and a barrier that runs its callbacks only when told the batch is durable. */
function recorder() {
  const calls: string[] = [];
  const effects: ConnectionEffects = {
    sendQueuedStatus: (conn, _session, position) => calls.push(`queued ${conn} ${position}`),
    sendAdmission: (conn) => calls.push(`admitted ${conn}`),
    refuseResume: (conn) => calls.push(`refused ${conn}`),
    closeSocket: (conn, reason) => calls.push(`close ${conn} ${reason}`),
    sendPingFrame: (conn) => calls.push(`ping ${conn}`),
    terminateSocket: (conn) => calls.push(`terminate ${conn}`),
    queueChanged: (room) => calls.push(`changed ${room}`),
    roomChanged: (room) => calls.push(`room ${room}`),
    storeChat: (decision) => calls.push(`store ${decision.type}`),
    chat: (decision) => calls.push(`chat ${decision.type}`),
  };
  const waiting: (() => void)[] = [];
  const barrier = { afterCommit: (fn: () => void) => void waiting.push(fn) };
  const commit = () => waiting.splice(0).forEach((fn) => fn());
  return { calls, gated: gateEffectsOnCommit(effects, barrier), commit };
}

describe('effects gated on the commit', () => {
  it('tells a client nothing before the decisions behind it are durable, then everything in order', () => {
    const { calls, gated, commit } = recorder();
    gated.sendQueuedStatus('a', 'sa', 1, 1);
    gated.sendAdmission('b', 'sb');
    gated.refuseResume('c');
    gated.closeSocket('d', 'restart');
    expect(calls).toEqual([]);
    commit();
    expect(calls).toEqual(['queued a 1', 'admitted b', 'refused c', 'close d restart']);
  });

  it('pings, terminations and fan-out scheduling acknowledge nothing and go at once', () => {
    const { calls, gated } = recorder();
    gated.sendPingFrame('a');
    gated.terminateSocket('b');
    gated.queueChanged('main');
    expect(calls).toEqual(['ping a', 'terminate b', 'changed main']);
  });
});
