import { describe, expect, it } from 'vitest';
import { typingTimeoutMs } from '../../machines/chat/chat-types.js';
import { replay } from '../../src/log/replay.js';
import { createSimulatedRoom } from '../support/simulated-room.js';

/** A live room of 1 seat with `a` (session `sa`) seated and `q` queued. */
function liveRoom() {
  const room = createSimulatedRoom({ chat: true, capacity: 1, heartbeatTimeoutMs: 600_000, heartbeatIntervalMs: 1000 });
  room.runtime.connect('a', 'sa');
  room.runtime.connect('q', 'sq');
  return room;
}

describe('a live room in the room runtime', () => {
  it('makes the admitted connection a member under its guest identity, and not the queued one', () => {
    const room = liveRoom();
    expect(room.runtime.members()).toEqual([{ user: 'sa', name: 'Guest sa' }]);
    expect([room.runtime.isMember('a'), room.runtime.isMember('q')]).toEqual([true, false]);
    room.runtime.message('q', { type: 'say', id: '1', text: 'hi' });
    expect(room.sockets.chatDecisions.at(-1)).toEqual({ type: 'chatRefused', conn: 'q', code: 'not_admitted', ref: '1' });
  });

  it('stops typing exactly 5 s after the last typing:true, on the room clock', () => {
    const room = liveRoom();
    room.runtime.message('a', { type: 'typing', state: true });
    room.advance(3000);
    room.runtime.message('a', { type: 'typing', state: true });
    room.advance(typingTimeoutMs - 1);
    expect(room.sockets.chatDecisions.filter((d) => d.type === 'typingChanged').map((d) => d.type === 'typingChanged' && d.state)).toEqual([true]);
    room.advance(1);
    expect(room.sockets.chatDecisions.at(-1)).toEqual({ type: 'typingChanged', user: 'sa', name: 'Guest sa', state: false, until: null });
  });

  it('hands the seat to the next in line when the member leaves, who becomes the member; presence follows', () => {
    const room = liveRoom();
    room.runtime.message('a', { type: 'leave' });
    expect(room.runtime.members()).toEqual([{ user: 'sq', name: 'Guest sq' }]);
    expect(room.sockets.chatDecisions.map((d) => d.type)).toEqual(['memberJoined', 'memberLeft', 'memberJoined']);
  });

  it('counts chat as a heartbeat: a member who only chats stays, one who falls silent is evicted', () => {
    const room = createSimulatedRoom({ chat: true, capacity: 2, heartbeatTimeoutMs: 3000, heartbeatIntervalMs: 2000 });
    room.runtime.connect('a', 'sa');
    room.runtime.connect('b', 'sb');
    for (let i = 0; i < 5; i++) {
      room.advance(2000);
      room.runtime.message('a', i % 2 === 0 ? { type: 'say', id: `${i}`, text: 'still here' } : { type: 'typing', state: true });
    }
    expect(room.runtime.members().map((m) => m.user)).toEqual(['sa']);
    expect(room.sockets.closedWith.has('a')).toBe(false);
    expect(room.sockets.sent.get('b')).toContainEqual({ evicted: 'heartbeat_timeout' });
  });

  it('records chat so that replay reproduces every decision, seqs and typing timers included', () => {
    const room = liveRoom();
    room.runtime.message('a', { type: 'typing', state: true });
    room.runtime.message('a', { type: 'say', id: '1', text: 'one' });
    room.runtime.message('a', { type: 'say', id: '1', text: 'again' });
    room.runtime.message('a', { type: 'typing', state: true });
    room.advance(typingTimeoutMs);
    room.runtime.message('a', { type: 'say', id: '2', text: 'two' });
    room.runtime.message('a', { type: 'leave' });
    room.runtime.message('q', { type: 'say', id: '1', text: 'three' });
    room.runtime.stop();
    const kinds = room.records.map((r) => r.kind);
    expect(kinds.filter((k) => k === 'said')).toHaveLength(3);
    expect(kinds).toContain('sayRepeated');
    expect(kinds).toContain('timer');
    expect(replay(room.records)).toMatchObject({ ok: true });
    // A changed text in the record is a divergence replay reports.
    const edited = room.records.map((r) => (r.kind === 'said' && r.data.seq === 2 ? { ...r, data: { ...r.data, text: 'forged' } } : r));
    expect(replay(edited)).toMatchObject({ ok: false, message: expect.stringContaining('said differs in text') });
  });

  it('goes on after the seq it was seeded with, and records the seed so replay does too', () => {
    const room = createSimulatedRoom({ chat: true }, { chat: { seq: 41, said: [['sa', 'old', 41]] } });
    room.runtime.connect('a', 'sa');
    room.runtime.message('a', { type: 'say', id: 'old', text: 'retry' });
    room.runtime.message('a', { type: 'say', id: 'new', text: 'fresh' });
    expect(room.sockets.chatDecisions.slice(-2)).toMatchObject([{ type: 'sayRepeated', seq: 41 }, { type: 'said', seq: 42 }]);
    expect(room.records[0]).toMatchObject({ kind: 'room.opened', data: { chat: { seq: 41 } } });
    room.runtime.stop();
    expect(replay(room.records)).toMatchObject({ ok: true });
  });
});
