import { readJsonlRecords } from '../log/jsonl-sink.js';
import { replay } from '../log/replay.js';

/** `anteroom replay <file.jsonl>`: exit 0 when every recorded decision is reproduced, 1 at the first divergence. */
export async function replayCommand(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const file = argv.find((arg) => !arg.startsWith('-'));
  if (!file) {
    out.write('usage: anteroom replay <file.jsonl>\n');
    return 2;
  }
  const records = await readJsonlRecords(file);
  const result = replay(records);
  if (result.ok) {
    out.write(`reproduced ${result.decisions} decisions from ${result.inputs} inputs (${records.length} records)\n`);
    return 0;
  }
  out.write(`divergence: ${result.message}\n`);
  if (result.record) out.write(`  record:   ${JSON.stringify(result.record)}\n`);
  out.write(`  expected: ${JSON.stringify(result.expected)}\n`);
  out.write(`  actual:   ${JSON.stringify(result.actual)}\n`);
  return 1;
}
