import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/protocol/codes.js';
import { maxResumeTokenChars, parseClientMessage } from '../../src/protocol/parse-client-message.js';

/** The codes the protocol says a malformed message gets from the parser (the rest come from the edge). */
const parserCodes = ['bad_json', 'not_an_object', 'invalid_message', 'unknown_type'] as const;
const validTypes = ['ping', 'leave', 'resume'];

/** Keys an attacker would try, mixed with ordinary ones. */
const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'token', 'type'), fc.string({ unit: 'binary', maxLength: 12 }));
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(...validTypes, '', ' ping', 'PING', 'status'),
);
const jsonValue = fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' });

/** JSON object text written key by key, so `__proto__` and duplicate keys reach the parser as own keys. */
function objectText(entries: readonly (readonly [string, unknown])[]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

/** What protocol v1 says an object message is, read from the last occurrence of each key, as JSON does. */
function expected(entries: readonly (readonly [string, unknown])[]): { ok: true; message: unknown } | { ok: false; code: string } {
  const last = new Map(entries);
  const type = last.get('type');
  if (typeof type !== 'string' || type === '') return { ok: false, code: 'invalid_message' };
  if (type === 'ping' || type === 'leave') return { ok: true, message: { type } };
  if (type !== 'resume') return { ok: false, code: 'unknown_type' };
  const token = last.get('token');
  if (typeof token !== 'string' || token === '' || token.length > maxResumeTokenChars) return { ok: false, code: 'invalid_message' };
  return { ok: true, message: { type, token } };
}

const isPlainObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

describe('parseClientMessage, for any input', () => {
  it('never throws, and answers with a valid message or one of the parser’s error codes', () => {
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.json({ maxDepth: 5, stringUnit: 'binary' }), jsonValue.map((v) => JSON.stringify(v)));
    fc.assert(
      fc.property(text, (input) => {
        const result = parseClientMessage(input);
        if (result.ok) {
          expect(validTypes).toContain(result.message.type);
        } else {
          expect(parserCodes).toContain(result.code);
          expect(ErrorCodes).toContain(result.code);
          expect(result.message).toBeTypeOf('string');
          expect(result.message.length).toBeGreaterThan(0);
          expect(result.message.length).toBeLessThan(200);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('answers bad_json exactly when the text is not JSON', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (input) => {
        let isJson = true;
        try {
          JSON.parse(input);
        } catch {
          isJson = false;
        }
        const result = parseClientMessage(input);
        expect(!result.ok && result.code === 'bad_json').toBe(!isJson);
      }),
      { numRuns: 1000 },
    );
  });

  it('answers not_an_object for every JSON value that is not an object', () => {
    fc.assert(
      fc.property(jsonValue.filter((v) => !isPlainObject(v)), (value) => {
        expect(parseClientMessage(JSON.stringify(value))).toMatchObject({ ok: false, code: 'not_an_object' });
      }),
    );
  });

  it('classifies every object as the protocol says, whatever keys and values surround the type', () => {
    const typeValue = fc.oneof(anyString, jsonValue);
    const tokenValue = fc.oneof(anyString, jsonValue, fc.string({ minLength: maxResumeTokenChars - 1, maxLength: maxResumeTokenChars + 1 }));
    const entries = fc.array(
      fc.oneof(
        fc.tuple(key, jsonValue),
        fc.tuple(fc.constant('type'), typeValue),
        fc.tuple(fc.constant('token'), tokenValue),
        fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.record({ type: typeValue, token: tokenValue })),
      ),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(entries, (pairs) => {
        const result = parseClientMessage(objectText(pairs));
        const want = expected(pairs);
        if (want.ok) expect(result).toEqual(want);
        else expect(result).toMatchObject({ ok: false, code: want.code });
        // Nothing that came in as a key may show up on every object.
        expect(Object.keys(Object.prototype)).toEqual([]);
        expect(({} as Record<string, unknown>).type).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips every valid message, unicode tokens included', () => {
    const message = fc.oneof(
      fc.constant({ type: 'ping' as const }),
      fc.constant({ type: 'leave' as const }),
      fc.record({ type: fc.constant('resume' as const), token: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }).filter((t) => t.length <= maxResumeTokenChars) }),
    );
    fc.assert(
      fc.property(message, (m) => {
        expect(parseClientMessage(JSON.stringify(m))).toEqual({ ok: true, message: m });
      }),
    );
  });
});
