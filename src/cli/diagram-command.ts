import { readFile, writeFile } from 'node:fs/promises';
import { machineDiagrams } from '../diagram/documented-machines.js';
import { staleTables, updateTableBlocks } from '../diagram/generated-tables.js';
import { diagramBlocks, staleDiagrams, updateDiagramBlocks } from '../diagram/machines-doc.js';
import { documentedTables } from '../protocol/code-tables.js';

const usage = `Usage: anteroom diagram [connection|room ...]
       anteroom diagram --update <doc.md>   rewrite the generated blocks of a Markdown file (machine
                                            diagrams, and the close-reason and error-code tables)
       anteroom diagram --check <doc.md>    exit 1 when a generated block is out of date

Prints a Mermaid stateDiagram-v2 of each machine, generated from the machine definitions.
`;

/** `anteroom diagram`: the machines as Mermaid, printed or written into a document's marked blocks. */
export async function diagramCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const diagrams = machineDiagrams();
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(usage);
    return 0;
  }
  const [first, file] = argv;
  if (first === '--update' || first === '--check') {
    if (!file || argv.length > 2) {
      out.write(usage);
      return 2;
    }
    const markdown = await readFile(file, 'utf8');
    // A document with diagrams must show every machine; tables are shown where a document marks them.
    const hasDiagrams = diagramBlocks(markdown).size > 0;
    if (first === '--check') {
      const stale = [...(hasDiagrams ? staleDiagrams(markdown, diagrams) : []), ...staleTables(markdown, documentedTables())];
      if (stale.length === 0) return 0;
      out.write(`${file}: out of date: ${stale.join(', ')} (run: anteroom diagram --update ${file})\n`);
      return 1;
    }
    const updated = updateTableBlocks(hasDiagrams ? updateDiagramBlocks(markdown, diagrams) : markdown, documentedTables());
    if (updated !== markdown) await writeFile(file, updated);
    out.write(updated === markdown ? `${file} is up to date\n` : `updated ${file}\n`);
    return 0;
  }
  const unknown = argv.filter((name) => !diagrams.has(name));
  if (unknown.length > 0) {
    out.write(`unknown machine ${unknown.join(', ')}; known: ${[...diagrams.keys()].join(', ')}\n`);
    return 2;
  }
  const names = argv.length > 0 ? argv : [...diagrams.keys()];
  out.write(names.map((name) => `%% ${name} machine\n${diagrams.get(name)}`).join('\n'));
  return 0;
}
