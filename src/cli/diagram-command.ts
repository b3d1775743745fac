import { readFile, writeFile } from 'node:fs/promises';
import { machineDiagrams } from '../diagram/documented-machines.js';
import { staleDiagrams, updateDiagramBlocks } from '../diagram/machines-doc.js';

const usage = `Usage: anteroom diagram [connection|room ...]
       anteroom diagram --update <doc.md>   rewrite the diagram blocks of a Markdown file
       anteroom diagram --check <doc.md>    exit 1 when a diagram block is out of date

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
    if (first === '--check') {
      const stale = staleDiagrams(markdown, diagrams);
      if (stale.length === 0) return 0;
      out.write(`${file}: out of date: ${stale.join(', ')} (run: anteroom diagram --update ${file})\n`);
      return 1;
    }
    const updated = updateDiagramBlocks(markdown, diagrams);
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
