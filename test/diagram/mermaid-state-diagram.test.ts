import { assign, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { connectionMachine } from '../../machines/connection.machine.js';
import { roomMachine } from '../../machines/room.machine.js';
import { machineToMermaid } from '../../src/diagram/mermaid-state-diagram.js';

const door = setup({
  types: { events: {} as { type: 'knock' } | { type: 'open' } | { type: 'note' }, context: {} as { knocks: number } },
  guards: { politely: () => true, tooMany: ({ context }) => context.knocks > 3 },
  delays: { patience: 500 },
  actions: { countKnock: assign({ knocks: ({ context }) => context.knocks + 1 }) },
}).createMachine({
  id: 'door',
  context: { knocks: 0 },
  initial: 'shut',
  on: { note: { actions: 'countKnock' } },
  states: {
    shut: {
      initial: 'locked',
      on: { open: { target: 'gone', guard: 'politely' } },
      states: {
        locked: { on: { knock: { target: 'waiting', actions: 'countKnock' } } },
        waiting: {
          after: { patience: 'locked', 2000: '#door.gone' },
          always: { guard: 'tooMany', target: '#door.gone' },
          on: { knock: {} },
        },
      },
    },
    gone: { type: 'final' },
  },
});

describe('machineToMermaid', () => {
  const diagram = machineToMermaid(door);
  const lines = diagram.split('\n').map((line) => line.trim());

  it('draws states, nesting, initial and final states', () => {
    expect(diagram.startsWith('stateDiagram-v2\n')).toBe(true);
    expect(lines).toContain('[*] --> shut');
    expect(lines).toContain('state shut {');
    expect(lines).toContain('[*] --> locked');
    expect(lines).toContain('gone --> [*]');
  });

  it('labels transitions with their event, guard, named or numeric delay, and always', () => {
    expect(lines).toContain('locked --> waiting : knock');
    expect(lines).toContain('shut --> gone : open [politely]');
    expect(lines).toContain('waiting --> locked : after patience');
    expect(lines).toContain('waiting --> gone : after 2000ms, always [tooMany]');
  });

  it('writes each transition in the innermost block holding both ends', () => {
    const insideShut = diagram.slice(diagram.indexOf('state shut {'), diagram.indexOf('\n  }'));
    expect(insideShut).toContain('locked --> waiting : knock');
    expect(insideShut).not.toContain('waiting --> gone');
  });

  it('notes transitions that only run actions, including the machine-wide ones', () => {
    expect(diagram).toContain('note right of waiting\n      knock\n    end note');
    expect(diagram).toContain('in any state: note / countKnock');
  });

  it('qualifies state names that repeat a key elsewhere in the machine', () => {
    const twins = setup({}).createMachine({
      id: 'twins',
      initial: 'a',
      states: { a: { initial: 'idle', states: { idle: {} } }, b: { initial: 'idle', states: { idle: {} } } },
    });
    const text = machineToMermaid(twins);
    expect(text).toContain('[*] --> a_idle');
    expect(text).toContain('[*] --> b_idle');
  });

  it('draws the real machines from their definitions', () => {
    const connection = machineToMermaid(connectionMachine);
    expect(connection).toContain('[*] --> connecting');
    expect(connection).toContain('alive --> closing : after heartbeatTimeout');
    expect(connection).toContain('listening --> closing : after queuePing [probeUnanswered]');
    expect(connection).toContain('closed --> [*]');
    const room = machineToMermaid(roomMachine);
    // The room's states own their behaviour: each lists the commands it answers and moves on its own events.
    expect(room).toContain('open --> paused : pause');
    expect(room).toContain('paused --> open : open');
    expect(room).toContain('open --> closed : close');
    expect(room).toContain('open --> maintenance : maintenance');
    expect(room).toContain('closed --> open : open');
    expect(room).toContain('scheduled --> open : open, draw');
    expect(room).toContain('join, leave, drop, evict, resume, kick, expireHold, expireSeat, setCapacity, setMaxQueue, setNotice, setAdmissionRate, refreshSite, releaseSite, expireSiteSession, holdForRestart, expireRestartHolds, expireSeatHold, draw / applyCommand, promoteHead');
    expect(room).toMatch(/note right of closed\n\s+join, setCapacity, setMaxQueue, setNotice, setAdmissionRate, draw \/ applyCommand\n/);
    expect(room).not.toContain('always');
  });
});
