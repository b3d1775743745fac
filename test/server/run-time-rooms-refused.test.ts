import { describe, expect, it } from 'vitest';
import { createRoomSet, putRoom } from '../../src/server/run-time-rooms.js';

describe('putRoom where rooms cannot be created at run time (cluster mode)', () => {
  it('answers 409 with the reason and opens nothing', () => {
    let opened = 0;
    const set = createRoomSet(new Map(), () => {
      opened++;
      throw new Error('must not open');
    }, () => {}, 'add the room to the rooms file of every node');
    const outcome = putRoom(set, 'sale', { capacity: 5 });
    expect(outcome).toEqual({ status: 409, error: 'not_supported', message: 'add the room to the rooms file of every node' });
    expect(opened).toBe(0);
    expect(set.rooms.size).toBe(0);
  });

  it('still validates the request first (400 for a bad name)', () => {
    const set = createRoomSet(new Map(), () => {
      throw new Error('must not open');
    }, () => {}, 'refused');
    expect(putRoom(set, 'bad name!', {})).toMatchObject({ status: 400 });
  });
});
