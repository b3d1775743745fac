import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** Text, binary, close, ping and pong opcodes (RFC 6455 §5.2). */
export const Opcode = { text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/** A masked client frame, FIN set, as RFC 6455 requires of clients. */
export function encodeClientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (length < 126) header[1] = 0x80 | length;
  else if (length < 65_536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

/** Splits unmasked server frames off the front of `buffer`; what is left is an incomplete frame. */
export function decodeServerFrames(buffer: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = [];
  let offset = 0;
  for (;;) {
    if (buffer.length - offset < 2) break;
    const opcode = buffer[offset]! & 0x0f;
    let length = buffer[offset + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      if (buffer.length - offset < 4) break;
      length = buffer.readUInt16BE(offset + 2);
      header = 4;
    } else if (length === 127) {
      if (buffer.length - offset < 10) break;
      length = Number(buffer.readBigUInt64BE(offset + 2));
      header = 10;
    }
    if (buffer.length - offset < header + length) break;
    frames.push({ opcode, payload: buffer.subarray(offset + header, offset + header + length) });
    offset += header + length;
  }
  return { frames, rest: buffer.subarray(offset) };
}

/**
 * A WebSocket client written by hand over node:net, so a test controls exactly what is read and written:
 * it can stop reading (`pause`) while it keeps writing, which no library client allows.
 */
export class RawWebSocket {
  private pending: Buffer;
  private readonly frames: ServerFrame[] = [];
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: Socket,
    leftover: Buffer,
  ) {
    this.pending = leftover;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      this.drainFrames();
    });
    this.drainFrames();
  }

  /** Opens a TCP connection to `url` (ws://host:port/path), completes the upgrade, and checks for 101. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<RawWebSocket> {
    const { socket, status, rest } = await rawHandshake(url, headers);
    if (status !== 101) {
      socket.destroy();
      throw new Error(`upgrade answered ${status}`);
    }
    return new RawWebSocket(socket, rest);
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  /** Text messages received so far, parsed as JSON. */
  messages(): Record<string, any>[] {
    return this.frames.filter((f) => f.opcode === Opcode.text).map((f) => JSON.parse(f.payload.toString('utf8')) as Record<string, any>);
  }

  closeFrame(): ServerFrame | undefined {
    return this.frames.find((f) => f.opcode === Opcode.close);
  }

  sendText(text: string): boolean {
    return this.socket.write(encodeClientFrame(Opcode.text, Buffer.from(text, 'utf8')));
  }

  /** Writes many text frames in one go. */
  sendTexts(text: string, count: number): boolean {
    const frame = encodeClientFrame(Opcode.text, Buffer.from(text, 'utf8'));
    return this.socket.write(Buffer.concat(Array.from({ length: count }, () => frame)));
  }

  writeBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Stops reading: the kernel's receive buffer fills and the server's writes back up. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private drainFrames(): void {
    const { frames, rest } = decodeServerFrames(this.pending);
    this.frames.push(...frames);
    this.pending = rest;
  }
}

/**
 * Sends a WebSocket upgrade request by hand and reads the status line; `rest` holds whatever followed the
 * response headers (the first frames, when the upgrade succeeded).
 */
export function rawHandshake(url: string, headers: Record<string, string> = {}): Promise<{ socket: Socket; status: number; rest: Buffer }> {
  const target = new URL(url);
  const lines = [
    `GET ${target.pathname}${target.search} HTTP/1.1`,
    `Host: ${target.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return new Promise((resolve, reject) => {
    const socket = connect(Number(target.port), target.hostname);
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.off('error', reject);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      resolve({ socket, status, rest: received.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
  });
}

export { waitFor } from '../../support/wait-for.js';
