import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createResumeTokens, maxResumeTokenLength } from '../../src/tokens/resume-tokens.js';

const session = 'V1StGXR8_Z5jdHi6B';

describe('createResumeTokens', () => {
  it('mints <session>.<43-character base64url MAC> that reads back to the session in its room', () => {
    const tokens = createResumeTokens();
    const token = tokens.mint('main', session);
    expect(token).toMatch(new RegExp(`^${session}\\.[A-Za-z0-9_-]{43}$`));
    expect(tokens.read('main', token)).toBe(session);
  });

  it('reads nothing in another room', () => {
    const tokens = createResumeTokens();
    expect(tokens.read('vip', tokens.mint('main', session))).toBeNull();
  });

  it('keeps room and session apart in the MAC', () => {
    const tokens = createResumeTokens();
    const mac = tokens.mint('ab', 'c').split('.')[1];
    expect(tokens.read('a', `bc.${mac}`)).toBeNull();
  });

  it('reads nothing under another secret, and the same secret reads across instances', () => {
    const secret = randomBytes(32);
    const token = createResumeTokens(secret).mint('main', session);
    expect(createResumeTokens(randomBytes(32)).read('main', token)).toBeNull();
    expect(createResumeTokens(secret).read('main', token)).toBe(session);
  });

  it('is not changed by later writes to the secret array', () => {
    const secret = randomBytes(32);
    const tokens = createResumeTokens(secret);
    const token = tokens.mint('main', session);
    secret.fill(0);
    expect(tokens.read('main', token)).toBe(session);
  });

  it('reads nothing once the session part is swapped', () => {
    const tokens = createResumeTokens();
    const mac = tokens.mint('main', session).split('.')[1];
    expect(tokens.read('main', `someone-else.${mac}`)).toBeNull();
  });

  it('refuses garbage, wrong types and over-long strings', () => {
    const tokens = createResumeTokens();
    const token = tokens.mint('main', session);
    const mac = token.split('.')[1] as string;
    const notStrings: unknown[] = [null, undefined, 42, {}, [token], Buffer.from(token)];
    for (const value of notStrings) {
      expect(tokens.read('main', value as string)).toBeNull();
      expect(tokens.read(value as string, token)).toBeNull();
    }
    for (const text of [
      '',
      '.',
      session,
      `${session}.`,
      `.${mac}`,
      `${session}.${mac}=`,
      `${session}.${mac.slice(0, -1)}`,
      `${session}.${mac}A`,
      `${session}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
      `${session}.${'x'.repeat(maxResumeTokenLength)}`,
      `${'s'.repeat(maxResumeTokenLength)}.${mac}`,
      `${session}\u00e9.${mac}`,
    ]) {
      expect(tokens.read('main', text)).toBeNull();
    }
  });

  it('refuses a short secret and sessions it could not read back', () => {
    expect(() => createResumeTokens(new Uint8Array(8))).toThrow(RangeError);
    const tokens = createResumeTokens();
    expect(() => tokens.mint('main', '')).toThrow(TypeError);
    expect(() => tokens.mint('main', 'has space')).toThrow(TypeError);
    expect(() => tokens.mint('main', 's'.repeat(maxResumeTokenLength))).toThrow(RangeError);
  });

  it('reads back every session it mints, in that room only (property)', () => {
    const tokens = createResumeTokens();
    const visibleAscii = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: 64 });
    const roomName = fc.stringMatching(/^[a-z0-9_-]{1,64}$/);
    fc.assert(
      fc.property(roomName, roomName, visibleAscii, (room, otherRoom, id) => {
        const token = tokens.mint(room, id);
        expect(tokens.read(room, token)).toBe(id);
        if (otherRoom !== room) expect(tokens.read(otherRoom, token)).toBeNull();
      }),
    );
  });

  it('never reads arbitrary strings as a session (property)', () => {
    const tokens = createResumeTokens();
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        expect(tokens.read('main', text)).toBeNull();
      }),
    );
  });
});
