import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** One transition as drawn: from a state to a state (or a note on the source when it has no target). */
interface DrawnTransition {
  source: AnyStateNode;
  targets: AnyStateNode[];
  label: string;
  actions: string[];
}

/**
 * A Mermaid `stateDiagram-v2` of a machine, read from its state nodes (`machine.root`), so the picture cannot
 * drift from the code: states and nesting, initial states, `on` transitions (`event [guard]`), `after`
 * transitions by delay name, `always` transitions by guard, final states, and transitions that only run
 * actions as notes on their state.
 *
 * Mermaid resolves a state name in the block where it is written, so each transition is written in the
 * innermost composite block that contains both of its ends; state names are the keys, qualified by their
 * path only when two states share a key.
 */
export function machineToMermaid(machine: AnyStateMachine): string {
  const root = machine.root;
  const all = descendants(root);
  const names = stateNames(all);
  const transitions = all.flatMap((node) => transitionsOf(node));
  const rootNotes = transitions.filter((t) => t.targets.length === 0 && t.source === root);

  const lines = ['stateDiagram-v2'];
  writeBlock(root, 1);
  return lines.join('\n') + '\n';

  function writeBlock(node: AnyStateNode, depth: number): void {
    const pad = '  '.repeat(depth);
    const initial = initialOf(node);
    if (initial) lines.push(`${pad}[*] --> ${names.get(initial)}`);
    for (const child of childrenOf(node)) {
      if (childrenOf(child).length > 0) {
        lines.push(`${pad}state ${names.get(child)} {`);
        writeBlock(child, depth + 1);
        lines.push(`${pad}}`);
      } else if (child.type === 'final') {
        lines.push(`${pad}${names.get(child)} --> [*]`);
      } else {
        lines.push(`${pad}${names.get(child)}`);
      }
    }
    // Edges between the same two states are drawn once, their labels joined: Mermaid stacks them otherwise.
    const edges = new Map<string, string[]>();
    for (const t of transitions) {
      if (t.targets.length === 0 || commonBlock(t.source, t.targets) !== node) continue;
      for (const target of t.targets) {
        const edge = `${names.get(t.source)} --> ${names.get(target)}`;
        edges.set(edge, [...(edges.get(edge) ?? []), t.label]);
      }
    }
    for (const [edge, labels] of edges) lines.push(`${pad}${edge} : ${labels.join(', ')}`);
    for (const child of childrenOf(node)) {
      const notes = transitions.filter((t) => t.targets.length === 0 && t.source === child);
      if (notes.length > 0) writeNote(pad, names.get(child)!, describeTargetless(notes));
    }
    // Transitions on the machine itself apply in every state: noted on the initial one.
    if (node === root && rootNotes.length > 0 && initial) {
      writeNote(pad, names.get(initial)!, describeTargetless(rootNotes).map((line) => `in any state: ${line}`));
    }
  }

  function writeNote(pad: string, stateName: string, noteLines: string[]): void {
    lines.push(`${pad}note right of ${stateName}`);
    for (const line of noteLines) lines.push(`${pad}  ${line}`);
    lines.push(`${pad}end note`);
  }
}

function childrenOf(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states) as AnyStateNode[];
}

function descendants(node: AnyStateNode): AnyStateNode[] {
  return [node, ...childrenOf(node).flatMap(descendants)];
}

function initialOf(node: AnyStateNode): AnyStateNode | undefined {
  if (node.type !== 'compound') return undefined;
  return node.initial?.target?.[0] as AnyStateNode | undefined;
}

/** Keys where they are unique in the machine; otherwise the path joined with `_`. */
function stateNames(nodes: AnyStateNode[]): Map<AnyStateNode, string> {
  const keyCount = new Map<string, number>();
  for (const node of nodes) keyCount.set(node.key, (keyCount.get(node.key) ?? 0) + 1);
  const names = new Map<AnyStateNode, string>();
  for (const node of nodes) {
    const name = keyCount.get(node.key) === 1 ? node.key : node.path.join('_');
    names.set(node, name.replace(/[^A-Za-z0-9_]/g, '_'));
  }
  return names;
}

/** The innermost state whose block contains the source and every target (their closest common ancestor). */
function commonBlock(source: AnyStateNode, targets: AnyStateNode[]): AnyStateNode {
  let block: AnyStateNode | undefined = source.parent;
  while (block && !targets.every((target) => isInside(target, block!))) block = block.parent;
  return block ?? source.machine.root;
}

function isInside(node: AnyStateNode, block: AnyStateNode): boolean {
  for (let at: AnyStateNode | undefined = node.parent; at; at = at.parent) if (at === block) return true;
  return false;
}

const afterEventPrefix = 'xstate.after.';

function transitionsOf(node: AnyStateNode): DrawnTransition[] {
  const out: DrawnTransition[] = [];
  for (const [eventType, definitions] of node.transitions) {
    if (eventType.startsWith(afterEventPrefix)) continue; // drawn from `after` below, by delay name
    for (const definition of definitions) out.push(drawn(node, eventType, definition));
  }
  for (const definition of node.after) {
    const delay = typeof definition.delay === 'number' ? `${definition.delay}ms` : String(definition.delay);
    out.push(drawn(node, `after ${delay}`, definition));
  }
  for (const definition of node.always ?? []) out.push(drawn(node, 'always', definition));
  return out;
}

function drawn(
  source: AnyStateNode,
  trigger: string,
  definition: { target?: readonly AnyStateNode[] | undefined; guard?: unknown; actions: readonly unknown[] },
): DrawnTransition {
  const guard = definition.guard === undefined ? '' : ` [${nameOf(definition.guard, 'guard')}]`;
  return {
    source,
    targets: [...(definition.target ?? [])],
    label: `${trigger}${guard}`,
    actions: definition.actions.map((action) => nameOf(action, 'action')),
  };
}

/** Transitions without a target as note lines: those that run the same actions share one line, `a, b / x, y`. */
function describeTargetless(transitions: DrawnTransition[]): string[] {
  const byActions = new Map<string, string[]>();
  for (const t of transitions) {
    const actions = t.actions.join(', ');
    byActions.set(actions, [...(byActions.get(actions) ?? []), t.label]);
  }
  return [...byActions].map(([actions, labels]) => (actions === '' ? labels.join(', ') : `${labels.join(', ')} / ${actions}`));
}

/** A guard or action by the name it was given in `setup`, or what kind of inline code it is. */
function nameOf(reference: unknown, kind: 'guard' | 'action'): string {
  if (typeof reference === 'string') return reference;
  if (typeof reference === 'object' && reference !== null && typeof (reference as { type?: unknown }).type === 'string') {
    return (reference as { type: string }).type;
  }
  if (typeof reference === 'function') {
    // enqueueActions, assign and friends carry their kind as `type`; anything else is inline code.
    const type = (reference as { type?: unknown }).type;
    return typeof type === 'string' ? type : `inline ${kind}`;
  }
  return `inline ${kind}`;
}
