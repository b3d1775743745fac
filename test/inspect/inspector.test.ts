import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { forwardInspection } from '../../src/inspect/actor-inspection.js';
import { startInspector, type RunningInspector } from '../../src/inspect/start-inspector.js';
import { startServer, TestClient, type LiveServer } from '../support/live-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function eventually<T>(read: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function serve(options: Parameters<typeof startServer>[1]): Promise<LiveServer> {
  const live = await startServer(['--capacity', '1'], options);
  cleanups.push(() => live.close());
  return live;
}

async function connectClient(url: string): Promise<TestClient> {
  const client = await TestClient.open(url);
  cleanups.push(async () => {
    await client.close();
  });
  return client;
}

describe('actor inspection', () => {
  it('forwards a connected client\'s actor registration, events and snapshots to the inspector sink', async () => {
    const received: StatelyInspectionEvent[] = [];
    const inspector = createInspector({ send: (event) => received.push(event) });
    const live = await serve({ inspect: forwardInspection(inspector) });

    const first = await connectClient(live.url);
    await first.next((m) => m.type === 'status' && m.status === 'active');
    const second = await connectClient(live.url);
    await second.next((m) => m.type === 'status' && m.status === 'queued');
    const [conn] = [...live.server.rooms.get('main')!.runtime.activeConnections()];

    const actor = await eventually(() => received.find((e) => e.type === '@xstate.actor' && e.name === `conn:${conn}`));
    expect(actor.type).toBe('@xstate.actor');
    const placed = await eventually(() =>
      received.find((e) => e.type === '@xstate.event' && e.sessionId === actor.sessionId && e.event.type === 'placed.active'),
    );
    expect(placed.type).toBe('@xstate.event');

    // The room's snapshots carry its counts, not the queue structure.
    const roomSnapshot = await eventually(() =>
      [...received].reverse().find(
        (e) => e.type === '@xstate.snapshot' && (e.snapshot as { context?: { admission?: { queued?: number } } }).context?.admission?.queued === 1,
      ),
    );
    expect((roomSnapshot as { snapshot: { context: { admission: unknown } } }).snapshot.context.admission).toEqual({
      status: 'open',
      capacity: 1,
      maxQueue: 0,
      active: 1,
      queued: 1,
      held: 0,
    });
  });

  it('streams the actors\' events to a WebSocket client of the --inspect bridge', async () => {
    const inspector: RunningInspector = await startInspector();
    cleanups.push(() => inspector.close());
    expect(inspector.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const live = await serve({ inspect: inspector.inspect });

    const receiver = new WebSocket(inspector.wsUrl);
    const messages: { type: string; name?: string; event?: { type: string } }[] = [];
    receiver.on('message', (data) => messages.push(JSON.parse(data.toString())));
    cleanups.push(() => receiver.close());
    await new Promise((resolve, reject) => receiver.once('open', resolve).once('error', reject));

    const client = await connectClient(live.url);
    await client.next((m) => m.type === 'status');
    const [conn] = [...live.server.rooms.get('main')!.runtime.activeConnections()];
    await eventually(() => messages.find((m) => m.type === '@xstate.actor' && m.name === `conn:${conn}`));
    await eventually(() => messages.find((m) => m.type === '@xstate.event' && m.event?.type === 'placed.active'));
    expect(messages.every((m) => m.type.startsWith('@xstate.'))).toBe(true);

    // The bridge page embeds the Stately inspector and relays from this bridge.
    const page = await (await fetch(inspector.url)).text();
    expect(page).toContain('https://stately.ai/inspect');
    expect(page).toContain('new WebSocket(');
  });
});
