import type { ConnectionEffects } from '../rooms/room-runtime.js';

/** Where durability is decided: runs code once every record appended so far is on disk. */
export interface CommitBarrier {
  afterCommit(fn: () => void): void;
}

/**
 * The room's effects, held back until the log is durable: a client is told its place, its seat, a refused
 * resume or why it is closed only once the decisions behind it are fsynced, in the order they were made. So
 * every place a client was told of survives a crash. Pings, terminations and fan-out scheduling acknowledge
 * nothing and run at once.
 */
export function gateEffectsOnCommit(effects: ConnectionEffects, barrier: CommitBarrier): ConnectionEffects {
  // Each effect named, not spread: the effects may be a class whose methods live on its prototype.
  return {
    sendQueuedStatus: (...args) => barrier.afterCommit(() => effects.sendQueuedStatus(...args)),
    sendAdmission: (...args) => barrier.afterCommit(() => effects.sendAdmission(...args)),
    refuseResume: (...args) => barrier.afterCommit(() => effects.refuseResume(...args)),
    closeSocket: (...args) => barrier.afterCommit(() => effects.closeSocket(...args)),
    roomChanged: (...args) => barrier.afterCommit(() => effects.roomChanged(...args)),
    // A message is acknowledged (its sender's own copy) only once it is on disk.
    chat: (...args) => barrier.afterCommit(() => effects.chat(...args)),
    // Stored at once: a restart must never give an accepted message's seq again, even one the log lost.
    storeChat: (...args) => effects.storeChat(...args),
    sendPingFrame: (...args) => effects.sendPingFrame(...args),
    terminateSocket: (...args) => effects.terminateSocket(...args),
    queueChanged: (...args) => effects.queueChanged(...args),
  };
}
