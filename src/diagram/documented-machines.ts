import type { AnyStateMachine } from 'xstate';
import { connectionMachine } from '../../machines/connection.machine.js';
import { roomMachine } from '../../machines/room.machine.js';
import { machineToMermaid } from './mermaid-state-diagram.js';

/** The machines `anteroom diagram` draws and docs/machines.md shows, in that order. */
export const documentedMachines: readonly { name: string; machine: AnyStateMachine }[] = [
  { name: 'connection', machine: connectionMachine },
  { name: 'room', machine: roomMachine },
];

/** Each documented machine's diagram, by name. */
export function machineDiagrams(): Map<string, string> {
  return new Map(documentedMachines.map(({ name, machine }) => [name, machineToMermaid(machine)]));
}
