import { describe, expect, it } from 'vitest';
import { parseClientMessage } from '../../src/protocol/parse-client-message.js';

const parse = (value: unknown) => parseClientMessage(JSON.stringify(value));

describe('parsing protocol v2 live-room and handshake messages', () => {
  it('accepts say with an id of 1..64 and a text of 1..2000 UTF-16 units, as given', () => {
    expect(parse({ type: 'say', id: 'a', text: '<script>x</script>' })).toEqual({ ok: true, message: { type: 'say', id: 'a', text: '<script>x</script>' }, ref: 'a' });
    expect(parse({ type: 'say', id: 'i'.repeat(64), text: 't'.repeat(2000) }).ok).toBe(true);
    // An astral character is two UTF-16 units.
    expect(parse({ type: 'say', id: 'a', text: '😀'.repeat(1000) }).ok).toBe(true);
    expect(parse({ type: 'say', id: 'a', text: '😀'.repeat(1000) + 'x' })).toMatchObject({ ok: false, code: 'invalid_message', ref: 'a' });
  });

  it('refuses a say with empty or over-long text, or a missing, empty or over-long id, repeating a usable id as ref', () => {
    expect(parse({ type: 'say', id: 'a', text: '' })).toMatchObject({ ok: false, code: 'invalid_message', ref: 'a' });
    expect(parse({ type: 'say', id: 'a', text: 't'.repeat(2001) })).toMatchObject({ ok: false, code: 'invalid_message', ref: 'a' });
    expect(parse({ type: 'say', id: 'a', text: 5 })).toMatchObject({ ok: false, code: 'invalid_message', ref: 'a' });
    for (const id of [undefined, '', 'i'.repeat(65), 7]) {
      const parsed = parse({ type: 'say', id, text: 'hi' });
      expect(parsed).toMatchObject({ ok: false, code: 'invalid_message' });
      expect(parsed).not.toHaveProperty('ref');
    }
  });

  it('refuses a say whose id or text holds a lone surrogate: it cannot be stored as UTF-8 and would come back changed', () => {
    const raw = (id: string, text: string) => parseClientMessage(`{"type":"say","id":"${id}","text":"${text}"}`);
    expect(raw('a', 'x\\ud800y')).toMatchObject({ ok: false, code: 'invalid_message', ref: 'a' });
    expect(raw('a', 'x\\udc00')).toMatchObject({ ok: false, code: 'invalid_message', ref: 'a' });
    expect(raw('b\\udc00', 'hi')).toMatchObject({ ok: false, code: 'invalid_message' });
    expect(raw('a', '\\ud83d\\ude00')).toEqual({ ok: true, message: { type: 'say', id: 'a', text: '😀' }, ref: 'a' });
  });

  it('accepts typing with a boolean state only', () => {
    expect(parse({ type: 'typing', state: false })).toEqual({ ok: true, message: { type: 'typing', state: false } });
    expect(parse({ type: 'typing', state: 'yes' })).toMatchObject({ ok: false, code: 'invalid_message' });
  });

  it('accepts history before with a limit of 1..200, or after, and nothing in between', () => {
    expect(parse({ type: 'history', before: 10, limit: 200 })).toEqual({ ok: true, message: { type: 'history', before: 10, limit: 200 } });
    expect(parse({ type: 'history', after: 0 })).toEqual({ ok: true, message: { type: 'history', after: 0 } });
    for (const bad of [{ before: 10 }, { before: 10, limit: 0 }, { before: 10, limit: 201 }, { before: -1, limit: 5 }, { after: 1.5 }, { after: 3, before: 5, limit: 1 }, {}, { after: 3, limit: 2 }]) {
      expect(parse({ type: 'history', ...bad })).toMatchObject({ ok: false, code: 'invalid_message' });
    }
  });

  it('accepts hello with a number v (the edge answers an unknown one), and repeats any message id as ref', () => {
    expect(parse({ type: 'hello', v: 3 })).toEqual({ ok: true, message: { type: 'hello', v: 3 } });
    expect(parse({ type: 'hello' })).toMatchObject({ ok: false, code: 'invalid_message' });
    expect(parse({ type: 'shout', id: 'q7' })).toMatchObject({ ok: false, code: 'unknown_type', ref: 'q7' });
  });
});
