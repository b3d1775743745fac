import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHttpRelay, type HttpRelay } from '../support/http-relay.js';
import { closeAll, startServer, TestClient } from '../support/live-server.js';
import { launchChromium } from './chromium.js';

let browser: Browser;
const relays: HttpRelay[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
  await closeAll();
});

async function relayTo(httpUrl: string, rewriteHost = false): Promise<HttpRelay> {
  const relay = await startHttpRelay(httpUrl, { rewriteHost });
  relays.push(relay);
  return relay;
}

async function visit(url: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 390, height: 780 } })).newPage();
  await page.goto(url);
  return page;
}

const untilState = (page: Page, states: string[]) =>
  page.waitForFunction((wanted) => wanted.includes(document.body.dataset.state ?? ''), states, { polling: 50, timeout: 15_000 });

describe('the waiting page under an origin allowlist', () => {
  it('joins from the server itself, and stops with a clear message where the upgrade is refused for good', async () => {
    const live = await startServer(['--capacity', '1', '--allowed-origins', 'https://tickets.example.com', '--heartbeat-timeout', '20000']);
    const direct = await visit(`${live.httpUrl}/`);
    await untilState(direct, ['active']);

    // A proxy that passes its upstream's address as Host: the page's origin is then neither the server's nor listed.
    const proxied = await visit(`${(await relayTo(live.httpUrl, true)).httpUrl}/`);
    await untilState(proxied, ['ended']);
    expect(await proxied.locator('#ended-title').textContent()).toBe("This page can't join the line");
    expect(await proxied.locator('#rejoin').isVisible()).toBe(false);
    expect(await proxied.locator('#connection').getAttribute('data-connection')).toBe('closed');
  }, 40_000);
});

describe('the waiting page while in line', () => {
  it('shows progress since the visitor joined, and while the server is unreachable says the place is kept', async () => {
    const live = await startServer(['--capacity', '1', '--heartbeat-timeout', '20000']);
    await TestClient.placed(live.url);
    const ahead = [await TestClient.placed(live.url), await TestClient.placed(live.url)];
    const relay = await relayTo(live.httpUrl);
    const page = await visit(`${relay.httpUrl}/`);
    await untilState(page, ['queued']);
    expect(await page.locator('#position').textContent()).toBe('3');
    expect(await page.locator('#progress').getAttribute('aria-valuenow')).toBe('0');

    ahead[0]!.send({ type: 'leave' });
    await page.waitForFunction(() => document.getElementById('position')?.textContent === '2', undefined, { polling: 50 });
    expect(await page.locator('#progress').getAttribute('aria-valuenow')).toBe('33');

    relay.cut();
    const notice = page.locator('#reconnect-notice');
    await expect.poll(() => notice.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await notice.textContent()).toContain('your place in line is kept');
    expect(await page.evaluate(() => document.body.dataset.reconnecting)).toBe('true');

    relay.restore();
    await page.waitForFunction(() => document.body.dataset.reconnecting === 'false', undefined, { polling: 50, timeout: 20_000 });
    expect(await notice.isVisible()).toBe(false);
    expect(await page.locator('#position').textContent()).toBe('2');
    expect(await page.locator('#connection-text').textContent()).toBe('Connected');
  }, 60_000);
});

describe('the waiting page when an operator removes the visitor', () => {
  it('says an operator ended the visit (close 4008), not that the page sent too many requests', async () => {
    const adminToken = 'operator-token-for-the-page-test';
    const live = await startServer(['--capacity', '1', '--heartbeat-timeout', '20000', '--admin-token', adminToken]);
    await TestClient.placed(live.url);
    const page = await visit(`${live.httpUrl}/`);
    await untilState(page, ['queued']);
    // The page's place is the one queued in the room: its session, as the log recorded it.
    const queued = live.server.log.since(0, 10_000).filter((record) => record.kind === 'queued');
    const session = queued.length === 1 && queued[0]!.kind === 'queued' ? queued[0]!.data.session : null;
    expect(session).not.toBeNull();
    const kicked = await fetch(`${live.httpUrl}/api/rooms/main/kick`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ session }),
    });
    expect(kicked.status).toBe(200);
    await untilState(page, ['ended']);
    expect(await page.locator('#ended-title').textContent()).toBe('Removed from the line');
    expect(await page.locator('#ended-text').textContent()).toBe('An operator ended your visit.');
  }, 40_000);
});
