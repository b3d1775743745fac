import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { minResumeSecretBytes } from '../tokens/resume-tokens.js';
import { syncDirectorySync, writeTemporarySync } from './data-dir-files.js';

export const signingKeyFileName = 'signing-key.pem';
export const resumeSecretFileName = 'resume-secret';

/** What a data dir keeps so tokens outlive a restart. */
export interface DataDirSecrets {
  /** PKCS#8 PEM of the EC P-256 key that signs admission tokens (same key, same `kid`, after a restart). */
  keyFile: string;
  /** The resume tokens' HMAC secret, 32 bytes. */
  resumeSecret: Buffer;
}

/**
 * The signing key and the resume secret of a data dir, generated on its first start (files 0600, fsynced and
 * linked into place, so a crash never leaves half a file) and read on every later one. A resume secret shorter than 16 bytes is a ConfigError.
 */
export function loadOrCreateSecrets(dir: string): DataDirSecrets {
  const keyFile = join(dir, signingKeyFileName);
  createOnce(keyFile, () => String(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'pem', type: 'pkcs8' })));
  const secretFile = join(dir, resumeSecretFileName);
  createOnce(secretFile, () => randomBytes(32).toString('base64url') + '\n');
  const resumeSecret = Buffer.from(readFileSync(secretFile, 'utf8').trim(), 'base64url');
  if (resumeSecret.byteLength < minResumeSecretBytes) throw new ConfigError(`${secretFile}: the resume secret is shorter than ${minResumeSecretBytes} bytes`);
  return { keyFile, resumeSecret };
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
