import { randomBytes } from 'node:crypto';
import { maxTimerMs } from '../config/rooms-file.js';
import type { RoomAdminCommand } from './room-inputs.js';
import type { RoomRuntime } from './room-runtime.js';

/** A fresh pre-queue draw seed: 128 bits from the operating system's cryptographic source, as 32 hex digits. */
export function freshDrawSeed(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The command that opens `room` now: with a fresh draw seed while its pre-queue's draw is pending, so an
 * operator who opens early still places the pre-queue in a random order.
 */
export function openCommand(room: RoomRuntime): RoomAdminCommand {
  return room.admission.opensAt === null ? { type: 'open' } : { type: 'open', drawSeed: freshDrawSeed() };
}

/**
 * Schedules a room that opens at `opensAt` (ms epoch), live: the room gathers a pre-queue until then, and at
 * `opensAt` the draw is made with a fresh seed. Both are recorded operator inputs, so replay needs no timer of
 * its own. A room recovered with its draw still pending opens at its recorded time, at once (on the next
 * turn, after the restart's own steps) if that has passed during the downtime; otherwise nothing happens for a
 * time already past. Returns a function that cancels the opening timer.
 */
export function scheduleOpening(room: RoomRuntime, opensAt: number | undefined, now = Date.now()): () => void {
  const pending = room.admission.opensAt;
  if (pending === null) {
    if (opensAt === undefined || opensAt <= now) return () => {};
    room.configure({ type: 'schedule', opensAt });
  }
  const due = pending ?? opensAt!;
  let timer: ReturnType<typeof setTimeout>;
  const arm = () => {
    // Node fires a timer longer than maxTimerMs at once, so a far opening is reached in steps.
    const wait = due - Date.now();
    if (wait > 0) {
      timer = setTimeout(arm, Math.min(wait, maxTimerMs));
      return;
    }
    if (room.admission.opensAt !== null) room.configure({ type: 'draw', drawSeed: freshDrawSeed() });
  };
  timer = setTimeout(arm, 0);
  return () => clearTimeout(timer);
}
