/**
 * The diagrams in a Markdown document (docs/machines.md): each is a fenced `mermaid` block right after a
 * marker line `<!-- diagram: NAME -->`, so the prose around them is written by hand and the blocks are
 * regenerated from the machines.
 */
const blockPattern = /<!-- diagram: ([\w-]+) -->\n```mermaid\n([\s\S]*?)```\n/g;

/** The diagram text under each marker, by machine name. */
export function diagramBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const match of markdown.matchAll(blockPattern)) blocks.set(match[1]!, match[2]!);
  return blocks;
}

/**
 * The document with every marked block replaced by the current diagram of its machine.
 * @throws Error when a marker names a machine with no diagram, or a machine has no marked block.
 */
export function updateDiagramBlocks(markdown: string, diagrams: ReadonlyMap<string, string>): string {
  const seen = new Set<string>();
  const updated = markdown.replace(blockPattern, (_block, name: string) => {
    const diagram = diagrams.get(name);
    if (diagram === undefined) throw new Error(`the document has a diagram of "${name}", which is not a documented machine`);
    seen.add(name);
    return `<!-- diagram: ${name} -->\n\`\`\`mermaid\n${diagram}\`\`\`\n`;
  });
  const missing = [...diagrams.keys()].filter((name) => !seen.has(name));
  if (missing.length > 0) {
    throw new Error(`the document has no block for ${missing.join(', ')}: add "<!-- diagram: ${missing[0]} -->" followed by a mermaid block`);
  }
  return updated;
}

/** Names of the machines whose block differs from the current diagram (empty when the document is current). */
export function staleDiagrams(markdown: string, diagrams: ReadonlyMap<string, string>): string[] {
  const blocks = diagramBlocks(markdown);
  return [...diagrams].filter(([name, diagram]) => blocks.get(name) !== diagram).map(([name]) => name);
}
