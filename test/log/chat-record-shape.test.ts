import { describe, expect, it } from 'vitest';
import { recordShapeProblem } from '../../src/log/record-shape.js';
import { createSimulatedRoom } from '../support/simulated-room.js';

describe('the shape of live-room records', () => {
  it('accepts every chat record a live room writes', () => {
    const room = createSimulatedRoom({ chat: true, capacity: 1 }, { chat: { seq: 3, said: [['sa', 'x', 3]] } });
    room.runtime.connect('a', 'sa');
    room.runtime.connect('q', 'sq');
    room.runtime.message('a', { type: 'typing', state: true });
    room.runtime.message('a', { type: 'typing', state: true });
    room.runtime.message('a', { type: 'say', id: 'x', text: 'again' });
    room.runtime.message('a', { type: 'say', id: 'y', text: 'new' });
    room.runtime.message('q', { type: 'say', id: 'z', text: 'refused' });
    room.runtime.message('a', { type: 'leave' });
    room.runtime.stop();
    const kinds = new Set(room.records.map((r) => r.kind));
    for (const kind of ['memberJoined', 'memberLeft', 'said', 'sayRepeated', 'typingChanged', 'typingExtended', 'chatRefused']) expect(kinds).toContain(kind);
    for (const record of room.records) expect(recordShapeProblem(record.kind, record.conn, record.data as Record<string, unknown>), record.kind).toBeNull();
  });

  it('refuses chat records whose data is not what their kind holds', () => {
    expect(recordShapeProblem('said', 'a', { seq: 1, id: 'x', user: 'u', name: 'U', text: 7, at: 0 })).not.toBeNull();
    expect(recordShapeProblem('memberJoined', null, { user: 'u', name: 'U', first: true })).not.toBeNull();
    expect(recordShapeProblem('message', 'a', { type: 'say', id: 'x' })).not.toBeNull();
    const { settings } = createSimulatedRoom({ chat: true }).records[0]!.data as { settings: unknown };
    expect(recordShapeProblem('room.opened', null, { settings, chat: { seq: 2, said: [['u', 'x', 2]] } })).toBeNull();
    expect(recordShapeProblem('room.opened', null, { settings, chat: { seq: -1, said: [] } })).not.toBeNull();
    expect(recordShapeProblem('room.opened', null, { settings, chat: { seq: 2, said: [['u', 2]] } })).not.toBeNull();
  });
});
