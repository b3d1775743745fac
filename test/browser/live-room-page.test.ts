import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpRelay } from '../support/http-relay.js';
import { startServer, type LiveServer } from '../support/live-server.js';
import { launchChromium } from './chromium.js';

let live: LiveServer;
let browser: Browser;
let visitors: BrowserContext;
const dialogs: string[] = [];

beforeAll(async () => {
  [live, browser] = await Promise.all([
    startServer(['--chat', '--capacity', '5', '--heartbeat-timeout', '20000', '--heartbeat-interval', '2000']),
    launchChromium(),
  ]);
  // One context, a tab per visitor: each tab has its own sessionStorage, so each is a visitor of its own.
  visitors = await browser.newContext({ viewport: { width: 390, height: 780 } });
});

afterAll(async () => {
  await browser?.close();
  await live?.close();
});

/** Opens the waiting page (at `httpUrl`, the server's own by default) and waits until it has become the room. */
async function enterRoom(httpUrl = live.httpUrl): Promise<Page> {
  const page = await visitors.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(`${httpUrl}/`);
  await untilRoom(page);
  return page;
}

const untilRoom = (page: Page) =>
  page.waitForFunction(() => document.body.dataset.state === 'room', undefined, { polling: 50, timeout: 15_000 });

const texts = (page: Page) => page.locator('#messages .msg:not(.pending) .msg-text').allTextContents();

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#composer-text', text);
  await page.press('#composer-text', 'Enter');
}

async function untilText(page: Page, text: string): Promise<void> {
  await expect.poll(() => texts(page), { timeout: 10_000 }).toContain(text);
}

describe('the waiting page in a live room, in Chromium', () => {
  it('two visitors chat: members, typing shown and cleared, and markup shown as the characters typed', async () => {
    const alice = await enterRoom();
    const bob = await enterRoom();
    await expect.poll(() => alice.locator('#member-count').textContent(), { timeout: 10_000 }).toBe('2');
    expect(await bob.locator('#members .member').count()).toBe(2);
    const log = alice.locator('#messages');
    expect(await log.getAttribute('role')).toBe('log');
    expect(await log.getAttribute('aria-live')).toBe('polite');

    // Bob types: Alice sees it; he empties the box: it goes away.
    await bob.locator('#composer-text').pressSequentially('hel');
    await expect.poll(() => alice.locator('#typing').textContent(), { timeout: 10_000 }).toMatch(/^Guest .+ is typing…$/);
    await bob.fill('#composer-text', '');
    await expect.poll(() => alice.locator('#typing').textContent(), { timeout: 10_000 }).toBe('');

    // Bob types and sends: the indicator goes when his message arrives.
    await bob.locator('#composer-text').pressSequentially('Hello Alice');
    await expect.poll(() => alice.locator('#typing').textContent(), { timeout: 10_000 }).not.toBe('');
    await bob.press('#composer-text', 'Enter');
    await untilText(alice, 'Hello Alice');
    await expect.poll(() => alice.locator('#typing').textContent(), { timeout: 10_000 }).toBe('');
    expect(await bob.locator('#composer-text').inputValue()).toBe('');

    const markup = '<img src=x onerror=alert(1)>';
    await say(alice, markup);
    await untilText(bob, markup);
    await untilText(alice, markup);
    for (const page of [alice, bob]) {
      expect(await page.locator('#messages img').count()).toBe(0);
      expect(await page.locator('#messages .msg-text').last().innerHTML()).toBe('&lt;img src=x onerror=alert(1)&gt;');
    }
    expect(dialogs).toEqual([]);
    // Alice's own message is marked as hers, Bob's is not.
    expect(await alice.locator('#messages .msg.mine .msg-text').allTextContents()).toEqual([markup]);
    expect(await bob.locator('#messages .msg.mine .msg-text').allTextContents()).toEqual(['Hello Alice']);
    await Promise.all([alice.close(), bob.close()]);
  }, 60_000);

  it('a reload shows the history again, in order', async () => {
    const carol = await enterRoom();
    await say(carol, 'first from Carol');
    await untilText(carol, 'first from Carol');
    await say(carol, 'second from Carol');
    await untilText(carol, 'second from Carol');
    const before = await texts(carol);

    await carol.reload();
    await untilRoom(carol);
    await expect.poll(() => texts(carol), { timeout: 10_000 }).toEqual(before);
    expect(before.slice(-2)).toEqual(['first from Carol', 'second from Carol']);
    await carol.close();
  }, 40_000);

  it('what is written while the connection is lost shows as sending, and arrives once it is back', async () => {
    const relay = await startHttpRelay(live.httpUrl);
    try {
      const dave = await enterRoom(relay.httpUrl);
      const erin = await enterRoom();
      relay.cut();
      await dave.waitForFunction(() => document.body.dataset.reconnecting === 'true', undefined, { polling: 50, timeout: 10_000 });
      expect(await dave.locator('#reconnect-notice').textContent()).toContain('what you write is sent when it is back');
      await say(dave, 'written offline');
      expect(await dave.locator('#messages .msg.pending .msg-text').allTextContents()).toEqual(['written offline']);

      relay.restore();
      await untilText(erin, 'written offline');
      await untilText(dave, 'written offline');
      expect(await dave.locator('#messages .msg.pending').count()).toBe(0);
      expect((await texts(erin)).filter((text) => text === 'written offline')).toHaveLength(1);
      await Promise.all([dave.close(), erin.close()]);
    } finally {
      await relay.close();
    }
  }, 40_000);
});
