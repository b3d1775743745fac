import type { WebSocketLike } from '../../src/client/client-types.js';

/**
 * An in-memory stand-in for a WebSocket, for client tests on a simulated clock: the test plays the server
 * (open, send, drop) and reads what the client sent. Every socket made is kept in `FakeSocket.made`.
 */
export class FakeSocket implements WebSocketLike {
  static made: FakeSocket[] = [];
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly frames: string[] = [];

  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }

  /** The newest socket the client made. */
  static get latest(): FakeSocket {
    const socket = FakeSocket.made.at(-1);
    if (!socket) throw new Error('the client made no socket');
    return socket;
  }

  /** What the client sent, parsed. */
  get sent(): Array<Record<string, any>> {
    return this.frames.map((frame) => JSON.parse(frame));
  }

  /** What the client sent of one type. */
  sentOf(type: string): Array<Record<string, any>> {
    return this.sent.filter((message) => message.type === type);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.frames.push(data);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** The server accepts the connection. */
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** The server sends `message` (JSON-encoded). */
  receive(message: object): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  /** The connection drops (1006 unless told). */
  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}
