import { Writable } from 'node:stream';

/** A stream that keeps what a command writes to it, for tests of the command line. */
export function captureOutput(): { out: Writable; text: () => string } {
  let text = '';
  const out = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { out, text: () => text };
}
