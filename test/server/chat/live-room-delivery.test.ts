import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, startServer, TestClient, type Message } from '../../support/live-server.js';
import { waitFor } from '../../support/wait-for.js';
import { RawWebSocket } from '../hardening/raw-websocket.js';

const raws: RawWebSocket[] = [];
afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await closeAll();
});

/** A member of the room: connected (optionally with a resume token), admitted and welcomed. */
async function member(url: string, resume?: string): Promise<{ client: TestClient; session: string; resumeToken: string }> {
  const client = await TestClient.open(`${url}/rooms/main${resume === undefined ? '' : `?resume=${encodeURIComponent(resume)}`}`);
  const status = await client.next((m) => m.type === 'status' && m.status === 'active');
  await client.next((m) => m.type === 'presence' && Array.isArray(m.members));
  await client.next((m) => m.type === 'history');
  return { client, session: status.session, resumeToken: status.resumeToken };
}

const quietHeartbeat = ['--heartbeat-timeout', '60000', '--heartbeat-interval', '1000'];

describe('live-room delivery', () => {
  it('a resume of a held seat is a handover: the others see no left and no joined', async () => {
    const { url } = await startServer(['--chat', '--seat-grace', '10000', ...quietHeartbeat]);
    const a = await member(url);
    const b = await member(url);
    await a.client.next((m) => m.type === 'presence' && m.joined);
    a.client.send({ type: 'say', id: 'early', text: 'before the drop' });
    await b.client.next((m) => m.type === 'message' && m.id === 'early');
    a.client.terminate();
    await a.client.closed;
    const back = await member(url, a.resumeToken);
    expect(back.session).toBe(a.session);
    const members = back.client.messages.find((m) => m.type === 'presence')!.members.map((m: Message) => m.user);
    expect(members).toEqual([a.session, b.session]);
    // The same person: a retry of an id used before the drop answers the original, to it alone.
    back.client.send({ type: 'say', id: 'early', text: 'before the drop' });
    expect(await back.client.next((m) => m.type === 'message')).toMatchObject({ seq: 1, id: 'early' });
    back.client.send({ type: 'say', id: 'later', text: 'first' });
    expect(await b.client.next((m) => m.type === 'message')).toMatchObject({ seq: 2, id: 'later' });
    expect(b.client.messages.filter((m) => m.type === 'presence').map((m) => Object.keys(m).find((k) => k !== 'type' && k !== 'receivedAt'))).toEqual(['members']);
    b.client.send({ type: 'leave' });
    expect((await back.client.next((m) => m.type === 'presence' && m.left)).left.user).toBe(b.session);
  });

  it('a member that stops reading is dropped over its outbound budget; the others keep getting every message in order', async () => {
    const live = await startServer(['--chat', '--outbound-budget', '4096', '--rate-limit', '10000000', ...quietHeartbeat]);
    const raw = await RawWebSocket.open(`${live.url}/rooms/main`);
    raws.push(raw);
    await waitFor('the slow member welcomed', () => raw.messages().some((m) => m.type === 'history'));
    const slowConn = [...live.server.clients.values()].at(-1)!.conn;
    const fast = await member(live.url);
    const other = await member(live.url);
    raw.pause();
    const text = 'x'.repeat(2000);
    let sent = 0;
    while (live.server.clients.has(slowConn) && sent < 20_000) {
      for (let i = 0; i < 100; i++) fast.client.send({ type: 'say', id: `m${sent++}`, text });
      await fast.client.next((m) => m.type === 'message' && m.id === `m${sent - 1}`, 10_000);
    }
    expect(live.server.clients.has(slowConn), `still connected after ${sent} messages`).toBe(false);
    await waitFor('every message at the other member', () => other.client.messages.filter((m) => m.type === 'message').length === sent, 10_000);
    const seqs = other.client.messages.filter((m) => m.type === 'message').map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    expect((await other.client.next((m) => m.type === 'presence' && m.left)).left).toBeDefined();
  });

  it('a live room created at run time with PUT chats too', async () => {
    const live = await startServer(['--admin-token', 'secret-token-123']);
    const response = await fetch(`${live.httpUrl}/api/rooms/talk`, {
      method: 'PUT',
      headers: { authorization: 'Bearer secret-token-123', 'content-type': 'application/json' },
      body: JSON.stringify({ capacity: 2, chat: true, historyLimit: 10 }),
    });
    expect(response.status).toBeLessThan(300);
    const client = await TestClient.open(`${live.url}/rooms/talk`);
    await client.next((m) => m.type === 'history');
    client.send({ type: 'say', id: '1', text: 'hello' });
    expect(await client.next((m) => m.type === 'message')).toMatchObject({ seq: 1, text: 'hello' });
  });
});
