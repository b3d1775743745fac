import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type LiveServer } from '../support/live-server.js';
import { launchChromium } from './chromium.js';

let live: LiveServer;
let browser: Browser;

beforeAll(async () => {
  // A generous heartbeat: this test is about the pages, not about a busy machine delaying a tab's pings.
  [live, browser] = await Promise.all([
    startServer(['--capacity', '5', '--heartbeat-timeout', '20000', '--heartbeat-interval', '2000']),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await live?.close();
});

/**
 * A phone-sized tab. Tabs share one browser context (a renderer per context costs more than the test can
 * spare on a busy machine); each tab still has its own sessionStorage, so each is a visitor of its own.
 */
async function newVisitorTab(): Promise<Page> {
  visitors ??= browser.newContext({ viewport: { width: 390, height: 780 } });
  return (await visitors).newPage();
}
let visitors: ReturnType<Browser['newContext']> | undefined;

/** Opens the waiting page and waits until the room has placed it. */
async function joinLine(page: Page): Promise<Page> {
  await page.goto(`${live.httpUrl}/`);
  await page.waitForFunction(() => ['queued', 'active'].includes(document.body.dataset.state ?? ''), undefined, { polling: 50 });
  return page;
}

const stateOf = (page: Page) => page.evaluate(() => document.body.dataset.state);
const positionOf = (page: Page) => page.locator('#position').textContent();

async function expectPosition(page: Page, position: number): Promise<void> {
  await page.waitForFunction(
    (expected) => document.body.dataset.state === 'queued' && document.getElementById('position')?.textContent === expected,
    String(position),
    { polling: 50 },
  );
}

async function expectDashboard(page: Page, expected: { seats: string; queued: string; admissions: string }): Promise<void> {
  const room = page.locator('.room[data-room="main"]');
  await expect.poll(() => room.locator('[data-field="seats"]').textContent(), { timeout: 5000 }).toBe(expected.seats);
  await expect.poll(() => room.locator('[data-field="queued"]').textContent(), { timeout: 5000 }).toBe(expected.queued);
  await expect.poll(() => room.locator('[data-field="admissions"]').textContent(), { timeout: 5000 }).toBe(expected.admissions);
}

describe('waiting page and dashboard in Chromium', () => {
  it('admits five of seven, promotes the head when a seat frees, keeps a place across a reload, and the dashboard agrees', async () => {
    // Seven visitors arrive at once: the room decides the order, the pages must show what it decided.
    const [dashboard, ...tabs] = await Promise.all([
      browser.newContext({ viewport: { width: 1280, height: 900 } }).then((context) => context.newPage()),
      ...Array.from({ length: 7 }, newVisitorTab),
    ]);
    const pages = await Promise.all(tabs.map(joinLine));
    const states = await Promise.all(pages.map(stateOf));
    const admitted = pages.filter((_, i) => states[i] === 'active');
    const waiting = pages.filter((_, i) => states[i] === 'queued');
    expect(admitted).toHaveLength(5);
    expect(waiting).toHaveLength(2);
    for (const page of admitted) expect(await page.locator('#panel-active').isVisible()).toBe(true);
    const positions = await Promise.all(waiting.map(positionOf));
    expect([...positions].sort()).toEqual(['1', '2']);
    const [first, second] = positions[0] === '1' ? [waiting[0]!, waiting[1]!] : [waiting[1]!, waiting[0]!];
    expect(await second.locator('#ahead').textContent()).toBe('1');
    expect(await second.locator('#queue-length').textContent()).toBe('2');
    expect(await second.locator('#connection-text').textContent()).toBe('Connected');
    await expect.poll(() => second.locator('#announcer').textContent()).toContain('number 2 in line');

    await dashboard!.goto(`${live.httpUrl}/dashboard`);
    await expectDashboard(dashboard!, { seats: '5 / 5', queued: '2', admissions: '5' });

    // A reload closes the socket while going away (1001): the place is held, and the page resumes it.
    // A fresh join would be third, behind the held place and the second visitor.
    await first.reload();
    await expectPosition(first, 1);
    await first.waitForFunction(() => document.getElementById('queue-length')?.textContent === '2', undefined, { polling: 50 });
    await expectPosition(second, 2);

    // Closing an admitted page frees its seat for the head of the line at once.
    await admitted[0]!.close();
    await first.waitForFunction(() => document.body.dataset.state === 'active', undefined, { polling: 50 });
    await expectPosition(second, 1);
    await expectDashboard(dashboard!, { seats: '5 / 5', queued: '1', admissions: '6' });
    await expect.poll(() => dashboard!.locator('#event-rows tr[data-kind="admitted"]').count()).toBe(6);
  }, 60_000);

  it('picks the room from ?room= and says so when there is no such room', async () => {
    const page = await newVisitorTab();
    await page.goto(`${live.httpUrl}/?room=${encodeURIComponent('no such room')}`);
    await page.waitForFunction(() => document.body.dataset.state === 'ended', undefined, { polling: 50 });
    expect(await page.locator('#ended-title').textContent()).toBe('No such waiting room');
    expect(await page.locator('#ended-text').textContent()).toContain('“no such room”');
    expect(await page.locator('#rejoin').isVisible()).toBe(false);
    await page.close();
  });

  it('sends an admitted visitor to the target URL with the admission token', async () => {
    const landing = createServer((_request, response) => response.end('<!doctype html><title>landed</title><p>landed</p>'));
    await new Promise<void>((resolve) => landing.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(landing.address() as AddressInfo).port}/enter?from=queue`;
    const shop = await startServer(['--capacity', '1', '--target-url', target]);
    try {
      const page = await newVisitorTab();
      await page.goto(`${shop.httpUrl}/`);
      await page.waitForURL((url) => url.pathname === '/enter', { timeout: 10_000 });
      const url = new URL(page.url());
      expect(url.searchParams.get('from')).toBe('queue');
      const token = url.searchParams.get('anteroom_token')!;
      const jwks = createLocalJWKSet(await (await fetch(`${shop.httpUrl}/.well-known/jwks.json`)).json());
      const { payload } = await jwtVerify(token, jwks);
      expect(payload).toMatchObject({ room: 'main', sub: expect.any(String), aud: new URL(target).origin });
      // The seat follows the visitor to the site: kept after the waiting page's socket went away.
      const seats = shop.server.rooms.get('main')!.runtime.admission.seats;
      await expect.poll(() => [...seats.values()].map((seat) => seat.siteUntil !== undefined), { timeout: 10_000 }).toEqual([true]);
      await page.close();
    } finally {
      await shop.close();
      await new Promise((resolve) => landing.close(resolve));
    }
  }, 30_000);
});
