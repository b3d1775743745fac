import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, getJson, startServer, TestClient } from '../support/live-server.js';
import { encodeClientFrame, Opcode, RawWebSocket, waitFor } from './hardening/raw-websocket.js';

afterEach(closeAll);

const binaryFrame = encodeClientFrame(Opcode.binary, Buffer.from([1, 2, 3]));

/**
 * A close the server decides takes effect on the room in the same turn: a peer that never answers the close
 * handshake keeps its socket until the close timeout, but not its place or seat. The peers here are raw
 * sockets that read frames and never answer a close.
 */
describe('a close the server decides', () => {
  it('gives up a queued place at once, so the next seat skips the closing socket', async () => {
    // A long heartbeat: nothing but the close decision may free anything here.
    const live = await startServer(['--capacity', '1', '--heartbeat-timeout', '60000', '--heartbeat-interval', '20000']);
    const seated = await TestClient.placed(live.url);
    const silent = await RawWebSocket.open(live.url);
    await waitFor('the silent peer is placed', () => silent.messages().some((m) => m.type === 'status'));
    const behind = await TestClient.placed(live.url);
    expect(behind.lastStatus).toMatchObject({ status: 'queued', position: 2 });

    silent.writeBytes(binaryFrame);
    await waitFor('the close frame reaches the silent peer', () => silent.closeFrame() !== undefined);
    expect(silent.closeFrame()!.payload.readUInt16BE(0)).toBe(1003);
    // The socket is still open (the peer ignores the handshake), yet its place is gone already.
    expect(silent.isClosed).toBe(false);
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, queued: 1, held: 0 });

    seated.send({ type: 'leave' });
    const admitted = await behind.until((s) => s.status === 'active');
    expect(admitted.status).toBe('active');
    expect(silent.messages().some((m) => m.type === 'status' && m.status === 'active')).toBe(false);
    silent.destroy();
  });

  it('frees a seat at once, and the head of the line gets it without waiting for the peer', async () => {
    const live = await startServer(['--capacity', '1', '--heartbeat-timeout', '60000', '--heartbeat-interval', '20000']);
    const silent = await RawWebSocket.open(live.url);
    await waitFor('the silent peer is seated', () => silent.messages().some((m) => m.type === 'status' && m.status === 'active'));
    const waiting = await TestClient.placed(live.url);
    expect(waiting.lastStatus).toMatchObject({ status: 'queued', position: 1 });

    silent.writeBytes(binaryFrame);
    await waitFor('the close frame reaches the silent peer', () => silent.closeFrame() !== undefined);
    expect(silent.isClosed).toBe(false);
    // The seat went to the head in the turn that decided the close; its status is already on the way.
    expect(await getJson(`${live.httpUrl}/api/rooms/main`)).toMatchObject({ active: 1, queued: 0 });
    expect((await waiting.until((s) => s.status === 'active')).status).toBe('active');
    silent.destroy();
  });
});
