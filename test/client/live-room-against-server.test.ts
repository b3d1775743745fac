import { afterEach, describe, expect, it } from 'vitest';
import { createNodeClient, type ChatMessage, type WaitingRoomClient } from '../../src/client/node.js';
import { startHttpRelay, type HttpRelay } from '../support/http-relay.js';
import { closeAll, startServer } from '../support/live-server.js';
import { waitFor } from '../support/wait-for.js';

const clients: WaitingRoomClient[] = [];
const relays: HttpRelay[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
  await closeAll();
});

/** A client that records every message it shows (live or from history) and connects at once. */
function member(url: string) {
  const client = createNodeClient({ url, backoff: { baseMs: 50, capMs: 200 } });
  clients.push(client);
  const shown: ChatMessage[] = [];
  client.on('message', (message) => shown.push(message));
  client.on('history', ({ messages }) => shown.push(...messages));
  client.connect();
  return { client, shown, texts: () => shown.map((message) => message.text) };
}

const live = (client: WaitingRoomClient) => waitFor('admission to the live room', () => client.liveRoom, 10_000);

describe('the client library in a live room on a real server', () => {
  it('two members see each other, chat, and see typing; the own copy acknowledges a say', async () => {
    const server = await startServer(['--chat', '--capacity', '5', '--heartbeat-timeout', '20000']);
    const alice = member(server.url);
    await live(alice.client);
    const bob = member(server.url);
    await live(bob.client);
    await waitFor('alice sees bob join', () => alice.client.members.length === 2);
    expect(bob.client.members).toHaveLength(2);

    const typing: boolean[] = [];
    alice.client.on('typing', ({ state }) => typing.push(state));
    bob.client.typing(true);
    await waitFor('alice sees bob typing', () => typing.includes(true));

    const id = bob.client.say('<b>hello</b>');
    expect(bob.client.pendingSays).toEqual([{ id, text: '<b>hello</b>' }]);
    await waitFor('alice gets the message', () => alice.texts().includes('<b>hello</b>'));
    await waitFor('bob has his own copy', () => bob.client.pendingSays.length === 0);
    // The room clears bob's typing when his message arrives.
    await waitFor('bob stops typing for alice', () => typing.at(-1) === false);
    const [fromAlice] = alice.shown.filter((message) => message.id === id);
    expect(fromAlice).toMatchObject({ id, text: '<b>hello</b>', from: { name: expect.stringMatching(/^Guest /) } });
    expect(bob.shown.filter((message) => message.id === id)).toEqual([fromAlice]);

    bob.client.leave();
    await waitFor('alice sees bob leave', () => alice.client.members.length === 1);
  });

  it('sends what was said while cut off once back, each once and in order, and fills the gap', async () => {
    const server = await startServer(['--chat', '--capacity', '5', '--heartbeat-timeout', '20000', '--seat-grace', '20000']);
    const relay = await startHttpRelay(server.httpUrl);
    relays.push(relay);
    const alice = member(relay.httpUrl.replace('http://', 'ws://') + '/');
    const bob = member(server.url);
    await Promise.all([live(alice.client), live(bob.client)]);
    alice.client.say('before the cut');
    await waitFor('bob gets the first message', () => bob.texts().includes('before the cut'));

    relay.cut();
    await waitFor('alice notices the cut', () => alice.client.state === 'reconnecting');
    alice.client.say('while away 1');
    alice.client.say('while away 2');
    bob.client.say('said while alice was away');
    await waitFor('bob has his own copy', () => bob.client.pendingSays.length === 0);
    relay.restore();

    await waitFor('bob gets what alice said while away', () => bob.texts().includes('while away 2'), 15_000);
    await waitFor('alice fills her gap', () => alice.texts().includes('said while alice was away'), 15_000);
    await waitFor('alice has her own copies', () => alice.client.pendingSays.length === 0);
    expect(bob.texts().filter((text) => text.startsWith('while away'))).toEqual(['while away 1', 'while away 2']);
    for (const { shown } of [alice, bob]) {
      const seqs = shown.map((message) => message.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    expect(alice.texts().sort()).toEqual(bob.texts().sort());
  }, 40_000);
});
