import { describe, expect, it } from 'vitest';
import { maxResumeTokenChars, parseClientMessage } from '../../src/protocol/parse-client-message.js';

describe('parseClientMessage', () => {
  it.each([
    ['{"type":"ping"}', { type: 'ping' }],
    ['{"type":"leave"}', { type: 'leave' }],
    ['{"type":"resume","token":"abc.def"}', { type: 'resume', token: 'abc.def' }],
    ['  {"type" : "ping"}\n', { type: 'ping' }],
    ['{"type":"ping","t":123,"extra":{"nested":[1,2]}}', { type: 'ping' }],
    ['{"token":"x","type":"resume"}', { type: 'resume', token: 'x' }],
    ['{"type":"resume","token":"ключ-🔑"}', { type: 'resume', token: 'ключ-🔑' }],
    // JSON keeps the last of duplicate keys, and so does the parser.
    ['{"type":"teleport","type":"leave"}', { type: 'leave' }],
  ])('accepts %s', (text, message) => {
    expect(parseClientMessage(text)).toEqual({ ok: true, message });
  });

  it.each([
    ['not JSON', '{"type":', 'bad_json'],
    ['an empty string', '', 'bad_json'],
    ['whitespace', '   ', 'bad_json'],
    ['a bare word', 'ping', 'bad_json'],
    ['a trailing comma', '{"type":"ping",}', 'bad_json'],
    ['a lone surrogate escape is still JSON', '"\\ud800"', 'not_an_object'],
    ['null', 'null', 'not_an_object'],
    ['true', 'true', 'not_an_object'],
    ['a number', '42', 'not_an_object'],
    ['a string', '"{\\"type\\":\\"ping\\"}"', 'not_an_object'],
    ['an array', '[{"type":"ping"}]', 'not_an_object'],
    ['an empty object', '{}', 'invalid_message'],
    ['a null type', '{"type":null}', 'invalid_message'],
    ['a numeric type', '{"type":1}', 'invalid_message'],
    ['an array type', '{"type":["ping"]}', 'invalid_message'],
    ['an object type', '{"type":{"toString":"ping"}}', 'invalid_message'],
    ['an empty type', '{"type":""}', 'invalid_message'],
    ['a type in another case', '{"type":"PING"}', 'unknown_type'],
    ['a type with spaces', '{"type":" ping"}', 'unknown_type'],
    ['an unknown type', '{"type":"teleport"}', 'unknown_type'],
    ['a server message type', '{"type":"status"}', 'unknown_type'],
    ['resume without a token', '{"type":"resume"}', 'invalid_message'],
    ['resume with an empty token', '{"type":"resume","token":""}', 'invalid_message'],
    ['resume with a numeric token', '{"type":"resume","token":7}', 'invalid_message'],
    ['resume with a null token', '{"type":"resume","token":null}', 'invalid_message'],
    ['resume with a token too long', JSON.stringify({ type: 'resume', token: 'x'.repeat(maxResumeTokenChars + 1) }), 'invalid_message'],
    ['a type only under __proto__', '{"__proto__":{"type":"leave"}}', 'invalid_message'],
    ['a type only under constructor', '{"constructor":{"prototype":{"type":"ping"}}}', 'invalid_message'],
    ['a token only under __proto__', '{"type":"resume","__proto__":{"token":"abc"}}', 'invalid_message'],
  ])('refuses %s with %s', (_what, text, code) => {
    const result = parseClientMessage(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe(code);
      expect(result.message.length).toBeGreaterThan(0);
    }
  });

  it('accepts a resume token of exactly the longest length', () => {
    const token = 't'.repeat(maxResumeTokenChars);
    expect(parseClientMessage(JSON.stringify({ type: 'resume', token }))).toEqual({ ok: true, message: { type: 'resume', token } });
  });

  it('answers very deep and very long input without throwing', () => {
    const depth = 100_000;
    expect(parseClientMessage('['.repeat(depth) + ']'.repeat(depth))).toMatchObject({ ok: false, code: 'not_an_object' });
    expect(parseClientMessage('['.repeat(depth))).toMatchObject({ ok: false, code: 'bad_json' });
    const deepField = `{"type":"ping","x":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    expect(parseClientMessage(deepField)).toEqual({ ok: true, message: { type: 'ping' } });
    const longType = parseClientMessage(JSON.stringify({ type: 'z'.repeat(1_000_000) }));
    expect(longType).toMatchObject({ ok: false, code: 'unknown_type' });
    // The error text quotes a bounded prefix of the type, never the whole of it.
    if (!longType.ok) expect(longType.message.length).toBeLessThan(200);
  });

  it('never lets a prototype key change Object.prototype', () => {
    parseClientMessage('{"__proto__":{"type":"ping","polluted":true},"type":"leave"}');
    parseClientMessage('{"constructor":{"prototype":{"polluted":true}},"type":"ping"}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).type).toBeUndefined();
  });
});
