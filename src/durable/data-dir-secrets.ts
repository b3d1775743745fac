import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { minResumeSecretBytes } from '../tokens/resume-tokens.js';
import { syncDirectorySync, writeTemporarySync } from './data-dir-files.js';

export const signingKeyFileName = 'signing-key.pem';
export const resumeSecretFileName = 'resume-secret';
export const loginSecretFileName = 'login-secret';

/** What a data dir keeps so tokens outlive a restart. */
export interface DataDirSecrets {
  /** PKCS#8 PEM of the EC P-256 key that signs admission tokens (same key, same `kid`, after a restart). */
  keyFile: string;
  /** The resume tokens' HMAC secret, 32 bytes. */
  resumeSecret: Buffer;
  /** The HS256 secret of the built-in login's cookie tokens, 32 bytes (a separate key: one key, one use). */
  loginSecret: Buffer;
}

/**
 * The signing key and the resume secret of a data dir, generated on its first start (files 0600, fsynced and
 * linked into place, so a crash never leaves half a file) and read on every later one. A resume secret shorter than 16 bytes is a ConfigError.
 */
export function loadOrCreateSecrets(dir: string): DataDirSecrets {
  const keyFile = join(dir, signingKeyFileName);
  createOnce(keyFile, () => String(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'pem', type: 'pkcs8' })));
  const resumeSecret = randomSecret(join(dir, resumeSecretFileName), 'resume secret');
  const loginSecret = randomSecret(join(dir, loginSecretFileName), 'login secret');
  return { keyFile, resumeSecret, loginSecret };
}

/** A 32-byte random secret kept in `path` (base64url), made on first use; shorter than 16 bytes is a ConfigError. */
function randomSecret(path: string, what: string): Buffer {
  createOnce(path, () => randomBytes(32).toString('base64url') + '\n');
  const secret = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url');
  if (secret.byteLength < minResumeSecretBytes) throw new ConfigError(`${path}: the ${what} is shorter than ${minResumeSecretBytes} bytes`);
  return secret;
}

/** Writes a new secret file whole or not at all: a temporary file, fsynced, then linked into place (fails if it exists). */
function createOnce(path: string, content: () => string): void {
  if (existsSync(path)) return;
  const temporary = writeTemporarySync(path, content());
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  syncDirectorySync(dirname(path));
}
