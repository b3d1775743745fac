import { closeReasons, type CloseReason } from './codes.js';
import { errorCodes } from './codes.js';

const placeWords: Record<CloseReason['place'], string> = {
  released: 'released',
  held: 'held for `resume` (a seat is released)',
  none: '— (never placed)',
};

const senderWords: Record<CloseReason['by'], string> = { server: 'server', client: 'client', either: 'either' };

/** The close-reason table as Markdown, one row per reason, in code order: what `docs/protocol.md` shows. */
export function closeReasonTable(): string {
  const rows = Object.values(closeReasons as Record<string, CloseReason>)
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => a.entry.code - b.entry.code || a.index - b.index)
    .map(({ entry }) => {
      const evicted = entry.evicted === null ? '—' : `\`${entry.evicted}\``;
      return `| ${entry.code} | ${senderWords[entry.by]} | ${evicted} | ${placeWords[entry.place]} | ${entry.reconnect ? 'yes' : 'no'} | ${entry.meaning} |`;
    });
  return ['| code | sent by | `evicted` first | place or seat | client reconnects | meaning |', '|---|---|---|---|---|---|', ...rows].join('\n') + '\n';
}

/** The error-code table as Markdown: each code, the close that follows it (if any), and its meaning. */
export function errorCodeTable(): string {
  const rows = Object.entries(errorCodes).map(([code, entry]) => {
    const closes = entry.closes === null ? '—' : String(closeReasons[entry.closes].code);
    return `| \`${code}\` | ${closes} | ${entry.meaning} |`;
  });
  return ['| code | then closes | meaning |', '|---|---|---|', ...rows].join('\n') + '\n';
}

/** Every generated table, by the name its marker in a document uses (`<!-- table: NAME -->`). */
export function documentedTables(): Map<string, string> {
  return new Map([
    ['close-reasons', closeReasonTable()],
    ['error-codes', errorCodeTable()],
  ]);
}
