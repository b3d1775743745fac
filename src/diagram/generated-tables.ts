/**
 * Generated tables in a Markdown document: the text between a marker line `<!-- table: NAME -->` and
 * `<!-- /table -->` is regenerated from the code (the close-reason table, the error codes), so the prose
 * around it is written by hand and the table cannot drift.
 */
const blockPattern = /<!-- table: ([\w-]+) -->\n([\s\S]*?)<!-- \/table -->\n/g;

/** The table text under each marker, by name. */
export function tableBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const match of markdown.matchAll(blockPattern)) blocks.set(match[1]!, match[2]!);
  return blocks;
}

/**
 * The document with every marked table replaced by its current text. Tables the document does not mark are
 * left out (a document shows the ones it needs).
 * @throws Error when a marker names a table that is not generated.
 */
export function updateTableBlocks(markdown: string, tables: ReadonlyMap<string, string>): string {
  return markdown.replace(blockPattern, (_block, name: string) => {
    const table = tables.get(name);
    if (table === undefined) throw new Error(`the document has a table "${name}", which is not a generated table`);
    return `<!-- table: ${name} -->\n${table}<!-- /table -->\n`;
  });
}

/** Names of the marked tables whose text differs from the current one. */
export function staleTables(markdown: string, tables: ReadonlyMap<string, string>): string[] {
  return [...tableBlocks(markdown)].filter(([name, text]) => tables.get(name) !== text).map(([name]) => name);
}
