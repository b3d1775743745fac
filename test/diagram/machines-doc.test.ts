import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../support/capture-output.js';
import { diagramCommand } from '../../src/cli/diagram-command.js';
import { documentedMachines, machineDiagrams } from '../../src/diagram/documented-machines.js';
import { tableBlocks } from '../../src/diagram/generated-tables.js';
import { diagramBlocks, staleDiagrams, updateDiagramBlocks } from '../../src/diagram/machines-doc.js';
import { closeReasonTable, documentedTables, errorCodeTable } from '../../src/protocol/code-tables.js';
import { closeReasons } from '../../src/protocol/codes.js';

const docPath = new URL('../../docs/machines.md', import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), 'anteroom-diagram-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const capture = captureOutput;

describe.each([
  ['docs/machines.md', docPath],
  ['docs/architecture.md', new URL('../../docs/architecture.md', import.meta.url)],
])('%s', (name, path) => {
  it(`shows the diagram generated from each machine (run \`npx anteroom diagram --update ${name}\`)`, () => {
    const markdown = readFileSync(path, 'utf8');
    const blocks = diagramBlocks(markdown);
    expect(new Set(blocks.keys())).toEqual(new Set(documentedMachines.map(({ name }) => name)));
    for (const [machine, diagram] of machineDiagrams()) expect(blocks.get(machine), `diagram of ${machine}`).toBe(diagram);
  });
});

describe('diagram blocks in a document', () => {
  const doc = (body: string) => `# Title\n\nprose\n\n<!-- diagram: room -->\n\`\`\`mermaid\n${body}\`\`\`\n\nmore prose\n`;
  const diagrams = new Map([['room', 'stateDiagram-v2\n  [*] --> open\n']]);

  it('finds a stale block and rewrites only the block', () => {
    const old = doc('stateDiagram-v2\n  [*] --> closed\n');
    expect(staleDiagrams(old, diagrams)).toEqual(['room']);
    const updated = updateDiagramBlocks(old, diagrams);
    expect(updated).toBe(doc('stateDiagram-v2\n  [*] --> open\n'));
    expect(staleDiagrams(updated, diagrams)).toEqual([]);
  });

  it('refuses a block for an unknown machine and a machine without a block', () => {
    expect(() => updateDiagramBlocks(doc('x\n').replace('diagram: room', 'diagram: lobby'), diagrams)).toThrow(/lobby/);
    expect(() => updateDiagramBlocks('# nothing here\n', diagrams)).toThrow(/no block for room/);
  });
});

describe('anteroom diagram', () => {
  it('prints a stateDiagram-v2 per machine, or the ones named', async () => {
    const all = capture();
    expect(await diagramCommand([], all.out)).toBe(0);
    expect(all.text().match(/^stateDiagram-v2$/gm)).toHaveLength(2);
    expect(all.text()).toContain(machineDiagrams().get('connection'));
    const one = capture();
    expect(await diagramCommand(['room'], one.out)).toBe(0);
    expect(one.text()).toBe(`%% room machine\n${machineDiagrams().get('room')}`);
    expect(await diagramCommand(['lobby'], capture().out)).toBe(2);
  });

  it('--check fails on an out-of-date document and --update fixes it', async () => {
    const file = join(scratch, 'machines.md');
    writeFileSync(file, readFileSync(docPath, 'utf8').replace('[*] --> connecting', '[*] --> somewhere'));
    const check = capture();
    expect(await diagramCommand(['--check', file], check.out)).toBe(1);
    expect(check.text()).toContain('out of date: connection');
    expect(await diagramCommand(['--update', file], capture().out)).toBe(0);
    expect(await diagramCommand(['--check', file], capture().out)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(docPath, 'utf8'));
  });
});

describe('docs/protocol.md', () => {
  const protocolDoc = new URL('../../docs/protocol.md', import.meta.url);

  it('shows the close-reason and error-code tables generated from the code (run `npx anteroom diagram --update docs/protocol.md`)', () => {
    const blocks = tableBlocks(readFileSync(protocolDoc, 'utf8'));
    expect(blocks.get('close-reasons')).toBe(closeReasonTable());
    expect(blocks.get('error-codes')).toBe(errorCodeTable());
    // The operators' guide shows the same generated table, not a copy kept by hand.
    const operations = tableBlocks(readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8'));
    expect(operations.get('close-reasons')).toBe(closeReasonTable());
  });

  it('has a row for every close reason, with its code', () => {
    const table = closeReasonTable();
    for (const entry of Object.values(closeReasons)) expect(table).toContain(`| ${entry.code} | `);
    expect(table).toContain('| 4008 | server | `kicked` | released | no | removed by an operator |');
  });

  it('--check finds a table edited by hand, and --update regenerates it', async () => {
    const file = join(scratch, 'protocol.md');
    writeFileSync(file, readFileSync(protocolDoc, 'utf8').replace('| 4008 | server |', '| 1008 | server |'));
    const check = capture();
    expect(await diagramCommand(['--check', file], check.out)).toBe(1);
    expect(check.text()).toContain('out of date: close-reasons');
    expect(await diagramCommand(['--update', file], capture().out)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(protocolDoc, 'utf8'));
    expect(documentedTables().size).toBe(2);
  });
});
