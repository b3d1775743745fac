import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt cost: N = 2^15, r = 8, p = 1 (RFC 7914; OWASP's password storage guidance gives N=2^17 or 2^15 with
 * r=8, p=1 as equivalent-strength choices). About 32 MiB and tens of ms per hash.
 */
const defaultCost = { N: 32_768, r: 8, p: 1 } as const;
const saltBytes = 16;
const keyBytes = 32;
/** Most memory one hash may ask for: the stored parameters are trusted only up to this. */
const maxmem = 256 * 1024 * 1024;

/** Longest password accepted, in UTF-8 bytes: longer adds nothing and costs hashing time. */
export const maxPasswordBytes = 1024;

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, keyBytes, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/**
 * A password's stored form: `scrypt$<N>$<r>$<p>$<salt>$<key>` (salt and key base64url), with a fresh random
 * 16-byte salt, so the parameters travel with the hash and can be raised later without breaking old ones.
 */
export async function hashPassword(password: string, cost: { N: number; r: number; p: number } = defaultCost): Promise<string> {
  const salt = randomBytes(saltBytes);
  const key = await derive(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/**
 * Whether `password` is the one `stored` was made from, compared in constant time. A stored form that is not
 * one `hashPassword` writes never matches (and never throws).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (![N, r, p].every((value) => Number.isSafeInteger(value) && value > 0) || expected.length !== keyBytes) return false;
  try {
    const key = await derive(password, salt, { N, r, p });
    return timingSafeEqual(key, expected);
  } catch {
    return false;
  }
}

/**
 * A hash of a password nobody has, with the default cost: checked against when the user does not exist, so an
 * unknown name takes as long to refuse as a wrong password.
 */
export function decoyPasswordHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('base64url'));
  return decoy;
}
let decoy: Promise<string> | null = null;
