/**
 * A setting the server cannot start with. The message is one line that names the flag, environment variable or
 * file at fault and the value it held, so the command line can print it as is and exit.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
